"""Many variables: Hessians, Jacobians, mixed partials, softmax and cross-entropy, sums over data, critical points.

Stage: expression -> result, for functions of several variables (the one-variable core is
``symgrad.calculus``). One module per concept, each with pure functions returning frozen
dataclasses: ``hessian.py``, ``jacobian.py``, ``mixed.py``, ``softmax.py``, ``sums.py``,
``critical.py``; ``narrate.py`` turns them into documents. The CLI (``symgrad.cli.multivar``)
only calls these. To add a multivariable result: a module here with a frozen result class and a
``to_json()``, a narrator function, and a command in ``symgrad/cli/multivar.py``.

>>> from symgrad.multivar.hessian import hessian
>>> hessian("x^2 y").matrix
((2*y, 2*x), (2*x, 0))
"""
