"""``python -m benchmarks``: run the benchmark table (``--smoke`` for the fast CI mode)."""

from benchmarks.run import main

raise SystemExit(main())
