"""The vocabulary: the objects the grammar builds, which every later stage works on.

Stage: vocabulary, just above the base (``errors``, ``records``, ``registry``): SymPy classes and
builders, no parsing and no calculus. ``functions.py``: σ, relu, softplus, floor, ceiling, round;
``abstract.py``: f, g, h and their derivatives f′(u); ``softmax.py``: softmax and cross-entropy;
``sums.py``: sums over data; ``symbols.py``: real variables in natural order. The registry
(``symgrad.registry``) names each function and says how it is read, derived and printed; a new
SymPy class for a function lives here.
"""
