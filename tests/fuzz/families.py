"""Input families for the fuzzer beyond grammar walks: one function per family, each an attack.

A family is a function ``(rng, walker) -> Attack``: a JSON-ready dict that says what to run
(``kind``: a command line, a call of the Python API, a real process under a limit, or a parse)
and, where there is one, the oracle to judge the answer by. ``tests/fuzz/promises.py`` runs an
attack and checks the promises (exit codes 0/1/2, one clear line, no traceback or "internal
error", the CPU budget and the memory ceiling, no code run, nothing half-written) and the oracle
(``tests/fuzz/oracles.py``: mpmath, hand-written derivatives, never symgrad's own code). A broken
promise raises ``promises.Broken`` with its kind; the fuzzer records the attack with it, and
``python tests/fuzz/fuzz.py --replay '<attack JSON>'`` runs that one attack again.

The families:

- ``giants``, ``at``, ``answer``: huge exact numbers folded inside non-constant expressions, in
  ``--at`` values and in ``check --answer`` (the budget: SymPy rewrites exp(c·ln b) as b^c).
- ``api``: ``symgrad.compile`` and ``export_source`` with hostile SymPy symbols and functions
  (quotes, backslashes, newlines, triple quotes, NUL, keywords, builtins, Unicode line separators,
  NFKC look-alikes, payloads that would write a canary file): nothing runs, the source holds only
  whitelisted ``ast`` nodes, the module imports and gives the value SymPy gives.
- ``point``: ``diff --at`` at huge, tiny, kink, jump and out-of-domain points and in odd
  spellings, against the template's mpmath derivative; plus hostile ``--at`` text.
- ``verdict``: ``check --answer`` with right answers in other spellings (must not be "not
  correct"), answers bumped by a term that is nonzero on an interval (must not be "correct"; a
  counterexample must be one), and hostile answer text.
- ``csv``: ``descend --data`` with CSV files: quoted newlines, BOM, CRLF, blank lines, wide rows,
  huge or non-numeric cells, empty files, sums whose bounds leave the rows; a valid file's first
  step is checked against the loss's hand-written gradient.
- ``misread``: issue 12's misreadings: an underscore name or a letter before "(", a prime, a
  transpose or a line break is never read as a product without a note.
- ``process``: the real ``symgrad`` command under ``prlimit --fsize``, ``/dev/full``, closed
  standard output or input, an ASCII or Latin-1 encoding, a reader that goes away, and
  ``export --output`` over an existing file that a size limit stops half-way.

To add a family: write ``def family(rng, walker) -> Attack`` here, add it to ``FAMILIES``, and give
its ``kind`` (or its ``oracle``) a check in ``promises.py`` if the existing ones do not fit.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import test_properties
from oracles import LOSSES, TEMPLATES, make_bump, random_bump_spec, random_point

Attack = dict[str, Any]


# hostile text, shared by the families ---------------------------------------------------------------
HOSTILE_TEXT = [
    "__import__('os').system('touch CANARY')", "x; import os", "x\x00", "x\n1", "\u202ex", "x\u2028y", "1e999999",
    "nan", "inf", "-inf", "1/0", "0/0", "", " ", "=", "x==1", "'1'", '"1"', "1,,2", "(", ")", "[1]", "x[0]",
    "{}", "${HOME}", "`id`", "é", "ｘ", "１", "٣", "1_000", "0x10", "1e", ".", "--", "+-+1", "2^^3",
    "9^9^9", "10^10^10", "e^e^e^e", "ln(0)", "sqrt(-1)", "1e-999999", "0.1" * 40, "(" * 60 + "1" + ")" * 60,
    "exp(10^8 ln 3)", "x" * 300, "\ufeff1", "1\t", "∞", "π", "θ", "¹", "½",
]
"""Text that is not a number, or a number too large or odd to use: each must be refused cleanly."""


def huge_integer(rng: random.Random) -> str:
    """A constant whose exact power would be enormous: 10^8, 7^12, 2^40, 10^999, 123456789…"""
    return rng.choice([
        f"10^{rng.randint(5, 12)}", f"10^{rng.choice([100, 999])}", f"{rng.randint(2, 9)}^{rng.randint(9, 20)}",
        f"2^{rng.randint(20, 60)}", str(rng.randint(10**5, 10**12)), f"{rng.randint(1, 9)}e{rng.randint(5, 12)}",
    ])


def exact_base(rng: random.Random) -> str:
    return rng.choice(["3", "2", "10", "3/2", "7/3", "sqrt(3)", "(2/3)", "12345"])


def log_of(rng: random.Random, base: str) -> str:
    return rng.choice([f"ln {base}", f"ln({base})", f"log({base})", f"log_2({base}) ln 2"])


def giant_constant(rng: random.Random) -> str:
    """c·ln b, which SymPy turns into b^c under exp."""
    c, b = huge_integer(rng), exact_base(rng)
    return rng.choice([f"{c} {log_of(rng, b)}", f"{log_of(rng, b)} * {c}", f"({c}) ({log_of(rng, b)})"])


def small_expression(rng: random.Random, walker: Any) -> str:
    """A non-constant part: a name, a short formula, or a grammar walk."""
    return rng.choice(["x", "x y", "sin x", "x^2 + 1", "w x + b", f"({walker.text(rng, depth=3)})"])


def cli(args: list[str], **more: Any) -> Attack:
    return {"kind": "cli", "args": args, **more}


# the budget families ----------------------------------------------------------------------------------
def hidden_giant(rng: random.Random, walker: Any) -> Attack:
    """A huge exact number hidden inside a non-constant expression (the parser must see through)."""
    u, g, c = small_expression(rng, walker), giant_constant(rng), huge_integer(rng)
    expr = rng.choice([
        f"exp({u} + {g})", f"e^({g} + {u})", f"exp({g}) {u}", f"e^({u}) e^({g} - {u})",
        f"({exact_base(rng)} e^({u}))^({c})", f"{u} + exp({g})", f"sin(exp({g})) + {u}",
        f"exp({g} + {g}) * {u}", f"({u})^({c}) + exp({g})",
    ])
    command = rng.choice(["diff", "grad", "diff", "hessian"])
    return cli([command, expr])


def at_value(rng: random.Random, walker: Any) -> Attack:
    """A point whose values, substituted, fold into a huge exact number (exp(x y) at x=10^8, y=ln 3)."""
    c, b = huge_integer(rng), exact_base(rng)
    expr, where = rng.choice([
        ("exp(x y)", f"x={c},y={log_of(rng, b)}"),
        ("exp(x ln(y))", f"x={c},y={b}"),
        ("y^x", f"x={c},y={b}"),
        ("x^2 + y", f"x=exp({giant_constant(rng)}),y=1"),
        ("e^x e^y", f"x={giant_constant(rng)},y=1"),
        ("(y e^x)^(z)", f"x=1,y={b},z={c}"),
        (small_expression(rng, walker), f"x={rng.choice([c, 'exp(' + giant_constant(rng) + ')'])}"),
    ])
    return cli(["diff", expr, "--wrt", "x", "--at", where])


def check_answer(rng: random.Random, walker: Any) -> Attack:
    """``check`` with a huge constant in the answer, or in the expression it is checked against."""
    g = giant_constant(rng)
    expr, answer = rng.choice([
        ("x^2", f"2x + exp({g}) - exp({g})"),
        ("x^2", f"2x + exp(x + {g}) - exp(x + {g})"),
        (f"exp(x + {g})", "exp(x)"),
        ("sin x", f"cos x + 0 exp({g})"),
        (walker.text(rng, depth=3), f"exp({g}) x"),
    ])
    return cli(["check", expr, "--answer", answer])


# the Python API -------------------------------------------------------------------------------------
CANARY = "CANARY"
"""The file a payload tries to write (in the attack's own folder): it must never appear."""

NAME_PARTS = [
    '"', "'", '"""', "'''", "\\", "\\n", "\n", "\r\n", "\x00", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c",
    "#", " ", "\t", "{", "}", "(", ")", ".", ",", ";", ":", "=", "+", "-", "*", "@", "$", "%", "!", "`",
    "lambda", "import", "def", "class", "None", "True", "print", "exec", "eval", "open", "__import__", "__builtins__",
    "__class__", "_t0", "_k0", "_v1", "_out", "_shape", "math", "np", "jnp", "jax", "torch", "f", "grad_f", "builtins",
    "ｐｒｉｎｔ", "ｅｘｅｃ", "ﬁ", "ℯ", "𝐱", "x\u0301", "θ", "x²", "\u202e", "\u200b", "\ufeff", "x", "y", "a1",
    f'""" + str(open("{CANARY}","w").write("x")) + """', f"''' + str(open('{CANARY}','w').write('x')) + '''",
    f'" + str(open("{CANARY}","w").write("x")) + "', f"__import__('os').system('touch {CANARY}')",
    f'\n__import__("os").system("touch {CANARY}")\n', f"\\\"\"\" + open('{CANARY}','w').write('1') #",
]
"""Pieces of hostile symbol names: quotes, escapes, line breaks of every kind, NUL, comments,
keywords, builtins, the names generated code uses, NFKC look-alikes of builtins, invisible and
right-to-left characters, and payloads that write the canary if they ever run."""

FUNCTION_NAMES = ["os.system", '__import__("os").system', "exp", "print", 'f"""', "f\n", "sin", "lambda", "x\u2028"]
"""Names of abstract SymPy functions (SymPy itself refuses NUL in a function's name)."""


def api_call(rng: random.Random, walker: Any) -> Attack:
    """``symgrad.compile`` / ``export_source`` on SymPy objects named by an attacker."""
    names: list[str] = []
    for _ in range(rng.randint(1, 4)):
        name = "".join(rng.choice(NAME_PARTS) for _ in range(rng.randint(1, 3)))
        if name not in names:
            names.append(name)
    return {
        "kind": "api",
        "names": names,
        "shape": rng.randrange(6),
        "assumptions": rng.choice(["real", "plain", "positive", "dummy"]),
        "backend": rng.choice(["math", "numpy", "math", "numpy", "jax", "torch"]),
        "entry": rng.choice(["compile", "export"]),
        # an abstract function (refused: no numbers), or a SymPy function whose own printing is
        # a payload ("<printer>": the source check must refuse the module before it runs)
        "function": rng.choice([None, None, None, rng.choice(FUNCTION_NAMES), "<printer>"]),
    }


# values at a point --------------------------------------------------------------------------------
def point_value(rng: random.Random, walker: Any) -> Attack:
    """``diff f --at x=v`` for a template f at a huge, tiny, kink, outside or odd point (or hostile text)."""
    k = rng.randrange(len(TEMPLATES))
    template = TEMPLATES[k]
    if rng.random() < 0.12:
        text = rng.choice(HOSTILE_TEXT)
        return cli(["diff", template.text, "--at", f"x={text}", "--format", "json"])
    where = random_point(rng, template)
    return cli(["diff", template.text, "--at", f"x={where}", "--no-steps", "--format", "json"],
               oracle={"type": "value", "template": k, "point": where})


# check --answer -------------------------------------------------------------------------------------
def verdict(rng: random.Random, walker: Any) -> Attack:
    """``check f --answer a``: a right answer, a bumped wrong one, or hostile text."""
    candidates = [k for k, t in enumerate(TEMPLATES) if t.right]
    k = rng.choice(candidates)
    template = TEMPLATES[k]
    right = rng.choice(template.right)
    roll = rng.random()
    if roll < 0.1:
        return cli(["check", template.text, "--answer", rng.choice(HOSTILE_TEXT), "--format", "json"])
    if roll < 0.2:  # a grammar walk and its bumped SymPy derivative: never "correct"
        return cli(["check", walker.text(rng, depth=4), "--answer", "BUMPED", "--format", "json"],
                   oracle={"type": "bumped-walk", "bump": rng.choice(["10^-12", "1", "relu(x - 3.5)", "x^3"])})
    if roll < 0.5:
        return cli(["check", template.text, "--answer", right, "--format", "json"],
                   oracle={"type": "verdict", "template": k, "bump": None})
    bump = random_bump_spec(rng)
    joined = rng.choice(["{r} + {b}", "({r}) + ({b})", "{b} + {r}", "{r} - (-({b}))"])
    answer = joined.format(r=right, b=make_bump(bump).text)
    return cli(["check", template.text, "--answer", answer, "--format", "json"],
               oracle={"type": "verdict", "template": k, "bump": bump})


# CSV files for descend --data --------------------------------------------------------------------------
def _number(rng: random.Random) -> float:
    return rng.choice([round(rng.uniform(-5, 5), 3), rng.randint(-9, 9), round(rng.uniform(-1, 1), 6)])


def _cell(value: float, rng: random.Random) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return rng.choice([text, text, f" {text} ", f'"{text}"', f"{value:e}" if isinstance(value, float) else text])


def csv_data(rng: random.Random, walker: Any) -> Attack:
    """A CSV file and a loss over it; valid files get their first descent step checked."""
    k = rng.randrange(len(LOSSES))
    loss = LOSSES[k]
    rows = rng.randint(1, 8) if loss.rows is None else rng.randint(3, 8)
    if rng.random() < 0.05:  # a long file: tens of thousands of rows, still checked row by row
        rows = rng.randint(5_000, 40_000)
    labels = "ln(1 +" in loss.text  # the logistic loss takes labels ±1
    data = [{"x": _number(rng), "y": rng.choice([-1, 1]) if labels else _number(rng)} for _ in range(rows)]
    header = ["x", "y"]
    extra = rng.random() < 0.3
    if extra:  # unused columns, text included: only the needed ones must be numbers
        header += [f"note{j}" for j in range(rng.choice([1, 3, 200]))]
    eol = rng.choice(["\n", "\r\n"])
    lines = [",".join(header)]
    for r in data:
        cells = [_cell(r["x"], rng), _cell(r["y"], rng)]
        if extra:
            cells += [rng.choice(['"a, b"', '"multi\nline"', "text", "", '"q""uote"']) for _ in header[2:]]
        lines.append(",".join(cells))
    expect: dict[str, Any] = {"type": "loss", "loss": k, "data": data}
    valid = ["none", "bom", "blank"]  # the file is good: its first step is checked against the oracle
    invalid = ["quoted-newline", "bad-cell", "empty-cell", "nan", "missing", "empty", "header-only", "no-column",
               "duplicate", "bounds", "huge", "utf16", "bad-utf8", "nul"]
    hazard = rng.choice(valid) if rng.random() < 0.45 else rng.choice(invalid)
    bad_row = rng.randint(1, rows)
    if hazard == "blank":
        lines.insert(rng.randint(1, len(lines)), "")
    elif hazard in ("quoted-newline", "bad-cell", "empty-cell", "nan", "missing"):
        cell = {"quoted-newline": '"3\n4"', "bad-cell": rng.choice(["abc", "1,5", "1.2.3", "0x10", "--1", "1 2", "x"]),
                "empty-cell": "", "nan": rng.choice(["nan", "inf", "-inf", "1e999"]), "missing": None}[hazard]
        fields = lines[bad_row].split(",")
        if cell is None:  # the row ends after x: y is missing (an error only where the loss uses y)
            lines[bad_row] = fields[0]
            if "y_i" in loss.text or "y[i]" in loss.text:
                expect = {"type": "refused", "says": f"row {bad_row}"}
        else:
            fields[0] = cell if cell != "1,5" else '"1,5"'
            lines[bad_row] = ",".join(fields)
            expect = {"type": "refused", "says": f"row {bad_row}"}
    elif hazard == "empty":
        lines = []
        expect = {"type": "refused", "says": "empty"}
    elif hazard == "header-only":
        lines = lines[:1]
        expect = {"type": "refused", "says": "no rows"}
    elif hazard == "no-column":
        lines[0] = lines[0].replace("x", "u", 1)
        expect = {"type": "refused", "says": "no column 'x'"}
    elif hazard == "duplicate":
        lines[0] = lines[0].replace("y", "x", 1)
        expect = {"type": "refused", "says": ["two columns", "no column 'y'"]}
    elif hazard == "huge":
        fields = lines[bad_row].split(",")
        fields[0] = rng.choice(["1e200", "-1e300", "1.7e308"])
        lines[bad_row] = ",".join(fields)
        expect = {"type": "promises"}  # overflow in the loss: said, never a wrong number
    elif hazard == "bounds":
        lower, upper = rng.choice([(-5, 3), (0, 2), (-1, "n"), (1, rows + 1), (2, rows + 7), (0, "n")])
        text = f"sum((y_i - (w x_i + b))^2, i, {lower}, {upper})"
        expect = {"type": "refused", "says": "row"}
        return _csv_attack(text, ["w", "b"], "\n".join(lines) + "\n", expect, rng)
    text = eol.join(lines) + (eol if lines else "")
    if hazard == "bom":
        text = "\ufeff" + text
    content: str = text
    if hazard == "utf16":
        content = text.encode("utf-16").decode("utf-8", "surrogateescape")
        expect = {"type": "refused", "says": "UTF-8"}
    elif hazard == "bad-utf8":
        content = text.replace("x", "x\udcff", 1) if text else "\udcff"
        expect = {"type": "refused", "says": "UTF-8"}
    elif hazard == "nul":
        content = text.replace(",", ",\x00", 1) if "," in text else "\x00"
        expect = {"type": "promises"}
    if "ln(1 +" in loss.text and expect.get("type") == "loss" and any(abs(r["x"]) > 50 for r in data):
        expect = {"type": "promises"}
    return _csv_attack(loss.text, list(loss.parameters), content, expect, rng)


def _csv_attack(text: str, parameters: list[str], content: str, expect: dict[str, Any], rng: random.Random) -> Attack:
    start = {p: rng.choice([0.5, -0.25, 1.0, 0.0]) for p in parameters}
    lr = rng.choice([0.001, 0.01, 0.0001])
    args = ["descend", text, "--data", "data.csv", "--start", ",".join(f"{p}={v}" for p, v in start.items()),
            "--steps", "1", "--lr", str(lr), "--format", "json"]
    return cli(args, files={"data.csv": content}, oracle={**expect, "start": start, "lr": lr})


# misreadings (issue 12) ------------------------------------------------------------------------------------
CALL_LIKE = [*test_properties.CALL_LIKE, "gelu", "log1p"]
MARKS = [*test_properties.MARKS, "″"]


def misread(rng: random.Random, walker: Any) -> Attack:
    """A call-like name, a prime, a transpose or a line break in a grammar walk."""
    first, second = walker.text(rng, depth=5), walker.text(rng, depth=5)
    check = rng.choice(["call", "marked", "marked-anywhere", "line", "powered"])
    if check == "powered":  # f^2(x), σ²(x): a function squared, as sin^2(x) is, never f²·x
        name = rng.choice(["f", "g", "h", "σ", "sigma"])
        power = rng.choice(["^2", "^3", "**2", "²", "³", " ^ 2 ", "^1e1", "^-1", "^0.5", "⁻¹"])
        return {"kind": "parse", "check": "powered", "name": name, "text": f"{name}{power}({first})"}
    if check == "call":
        name = rng.choice(CALL_LIKE)
        text = rng.choice([f"{name}({first})", f"{first} * {name}({second})", f"{name} ({first}) + {second}",
                           f"{name}({first}, {second})"])
        return {"kind": "parse", "check": "call", "name": name, "text": text}
    if check == "marked":
        operand = rng.choice(["x", "θ", "y_i", "w2", "x[2]", "f(x)", "sin(x)"])
        return {"kind": "parse", "check": "marked", "text": f"{operand}{rng.choice(MARKS)} + ({first})", "first": True}
    if check == "marked-anywhere":
        return {"kind": "parse", "check": "marked", "text": f"({first}){rng.choice(MARKS)} {second}", "first": False}
    text = rng.choice([first, f"{first} {second}"])
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    at = rng.choice(spaces) if spaces else len(text)
    if not spaces:
        text += " x"
    return {"kind": "parse", "check": "line", "text": text, "at": at}


# real processes under real limits ---------------------------------------------------------------------
PROCESS_INPUTS = [
    ["diff", "x cos(πx)"], ["grad", "θ₁^2 sin(πx) + sigmoid(x y)"], ["hessian", "x^2 y + sin(x y)"],
    ["table"], ["softmax", "12"], ["check", "x^2", "--answer", "2x + 1"], ["diff", "x +"], ["diff", "sinus(x)"],
    ["jacobian", "x y, x + y"], ["critical", "x^3 - 3x + y^2"], ["diff", "x^2", "--order", "0"],
]


def process(rng: random.Random, walker: Any) -> Attack:
    """The real command under a hazard of its environment (a file-size limit, a full disk, …)."""
    hazard = rng.choice(["fsize", "fsize", "full", "closed-stdout", "closed-stdin", "encoding", "pipe", "export-fsize"])
    args = list(rng.choice(PROCESS_INPUTS))
    if rng.random() < 0.25:
        args = [rng.choice(["diff", "grad"]), walker.text(rng, depth=4)]
    fmt = rng.choice(["json", "plain", "rich", "markdown", "latex"])
    attack: Attack = {"kind": "process", "hazard": hazard, "args": [*args, "--format", fmt]}
    if hazard in ("fsize", "export-fsize"):
        attack["limit"] = rng.choice([1, 50, 300, 1000, 4000, 20_000])
    if hazard == "export-fsize":
        attack["args"] = ["export", rng.choice(["sin(x) cos(y) + x^3 y", "sigmoid(w x + b)", "x^2", "erf(x) + e^x"]),
                          "--output", "keep.py", "--backend", rng.choice(["numpy", "math"])]
    if hazard == "closed-stdin":
        attack["args"] = [args[0] if args[0] in ("diff", "grad", "hessian") else "diff", "-", "--format", fmt]
    if hazard == "encoding":
        attack["encoding"] = rng.choice(["ascii", "latin-1", "cp1252"])
    return attack


FAMILIES: dict[str, Callable[[random.Random, Any], Attack]] = {
    "giants": hidden_giant,
    "at": at_value,
    "answer": check_answer,
    "api": api_call,
    "point": point_value,
    "verdict": verdict,
    "csv": csv_data,
    "misread": misread,
    "process": process,
}


def run_command(attack: Attack | list[str]) -> str:
    """Run one attack (or a bare command line) and check its promises: "ok", "error", "refused"
    or a finer outcome; ``promises.Broken`` (an AssertionError) says which promise broke."""
    from promises import run

    return run(attack if isinstance(attack, dict) else cli(list(attack)))
