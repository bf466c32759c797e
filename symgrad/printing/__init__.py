"""Printing: a SymPy expression -> text, in symgrad's notation (σ, p₁, f′(x²), ln).

Stage: printing, above the vocabulary and below everything that writes an expression: messages
(``magnitude``, ``realness``), the JSON contract, the renderers. ``oneline.py``: one line of Unicode
(or ASCII) math, ``x·cos(π·x)``; ``latex.py``: LaTeX (``latex_of``) and prose in LaTeX text mode;
``pretty.py``: SymPy's 2-D art for the rich backend. A function prints through its class's own
hooks (``_latex``, ``_pretty``, ``_sympystr``) and the printers here.
"""
