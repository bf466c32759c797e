"""The narrators: what to say about each result, as a ``Document`` any backend can format.

Stage: rendering, first half (``symgrad.render.backends`` is the second: how to format it). One
module per family of commands: ``calculus.py`` (diff, grad), ``steps.py`` (the worked steps, one
narrator per rule), ``multivar.py`` (hessian, jacobian, mixed partials, softmax, critical points),
``descent.py`` (descend). A narrator reads results and never computes them.
"""
