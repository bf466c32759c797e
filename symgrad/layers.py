"""symgrad's layers, bottom first: a module imports only from its own layer or from those below.

Stage: none (data about the code; ``tests/test_layers.py`` reads it and parses every ``import`` of
every module, at the top of a file and inside functions alike, where lazy imports for start-up
live). Each layer is a tuple of rooms; rooms of one layer may not import each other (multivar and
numeric are independent). The flow of data is the order of the layers: text -> expression
(vocabulary, parsing) -> derivatives and step trees -> results of commands -> documents -> output.

To add a module: put it in the room whose prefix names it (or add a room); the test fails on a
module no room names, on an import against this order and on any cycle between modules.

>>> layer_of("symgrad.steps.rules"), layer_of("symgrad.render.backends.latex")
('steps', 'render')
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    # the package itself holds only __version__ and the lazy names of the API (no import statement)
    ("base", (("symgrad", "symgrad.errors", "symgrad.records", "symgrad.files", "symgrad.registry",
               "symgrad.layers"),)),
    ("vocabulary", (("symgrad.vocabulary",),)),
    ("printing", (("symgrad.printing",),)),
    ("runtime", (("symgrad.budget", "symgrad.magnitude", "symgrad.precise"),)),
    ("parsing", (("symgrad.parsing",),)),
    ("expressions", (("symgrad.expressions", "symgrad.realness", "symgrad.differentiate", "symgrad.links"),)),
    ("steps", (("symgrad.steps",),)),
    ("calculus", (("symgrad.calculus", "symgrad.evaluate"),)),
    ("analysis", (("symgrad.multivar",), ("symgrad.numeric",), ("symgrad.backprop",))),
    # vectors and matrices: their own notation, differentials and code, over the scalar engine and codegen
    ("matrix", (("symgrad.matrix",),)),
    ("commands", (("symgrad.commands",),)),
    ("render", (("symgrad.render",),)),
    ("cli", (("symgrad.cli",),)),
    ("facade", (("symgrad.api", "symgrad.__main__"),)),
)
"""(layer, rooms), bottom first; a room is a tuple of module prefixes (a package names its modules;
``symgrad`` names only the package's own ``__init__``)."""

EXCEPTIONS: dict[tuple[str, str], str] = {
    ("symgrad.steps.derivation", "symgrad.render.narrate.steps"):
        "Derivation's Jupyter hooks (_repr_latex_, _repr_markdown_) draw it with the renderer, imported "
        "when Jupyter asks, as SymPy's Basic._repr_latex_ imports its printer",
    ("symgrad.steps.derivation", "symgrad.render.backends"):
        "the Markdown Jupyter hook (see above)",
}
"""(importer, imported) -> why: the imports against the order that are meant (the test checks each is still used)."""


def room_of(module: str) -> tuple[int, int] | None:
    """(layer index, room index) of ``module``: the room with the longest prefix naming it."""
    best: tuple[int, int, int] | None = None
    for i, (_, rooms) in enumerate(LAYERS):
        for j, prefixes in enumerate(rooms):
            for prefix in prefixes:
                inside = module.startswith(prefix + ".") and prefix != "symgrad"
                if (module == prefix or inside) and (best is None or len(prefix) > best[2]):
                    best = (i, j, len(prefix))
    return None if best is None else (best[0], best[1])


def layer_of(module: str) -> str | None:
    """The name of the layer ``module`` belongs to."""
    found = room_of(module)
    return None if found is None else LAYERS[found[0]][0]
