"""From symbols to numbers: compiled functions, optimizers, descent, plots and code export.

Stage: the last arrow of the pipeline (expression -> numbers). ``codegen.py`` prints an expression,
its gradient and Hessian as Python source for one backend (NumPy, math, JAX, PyTorch);
``compile.py`` turns that source into callables and ``export.py`` into a module file;
``optimizers.py`` holds torch.optim's update rules as pure functions; ``descend.py`` folds an
optimizer over a compiled gradient; ``data.py`` binds the indexed variables of a summation loss to
a CSV file; ``plot.py`` draws trajectories (matplotlib, optional); ``report.py`` narrates a descent
for the renderers.

Nothing here imports NumPy, matplotlib, torch or JAX at module import: each is imported inside the
function that needs it, so ``symgrad diff`` starts as fast as before.
"""

from __future__ import annotations
