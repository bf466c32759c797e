"""Properties over inputs generated from the real grammar (``grammar/symgrad.lark``) by Hypothesis.

``from_lark`` walks the grammar file itself; our terminals are ``%declare``d (a hand-written
scanner makes them), so each gets an explicit strategy of spellings people type, followed by a
space so that neighbouring tokens never merge. For every generated input:

1. parsing returns an expression or raises symgrad's own error, never anything else;
2. ``parse(str(e)) == e``: the printed form reads back to the same expression;
3. the derivative agrees with a central finite difference computed by mpmath at 130 digits that
   has settled across step sizes, at random points where the function is smooth (away from the
   kinks of |u|, relu, max, sign);
4. the step engine's result equals ``sympy.diff`` (exactly, or numerically at the point).

``from_lark`` draws slowly on this grammar (most draws overrun and are retried), so it runs a
bounded number of examples, and a seeded random walk over the same grammar file (``GrammarWalker``)
runs more. ``tests/fuzz/fuzz.py`` runs the same checks on 100 000 walks.
"""

from __future__ import annotations

import random
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad import budget
from symgrad.errors import BudgetExceeded, SymgradError
from symgrad.parsing.lexer import MAX_LITERAL_DIGITS

GRAMMAR = Path(__file__).resolve().parents[1] / "grammar" / "symgrad.lark"

SPELLINGS: dict[str, list[str]] = {
    "NUMBER": ["0", "1", "2", "3", "10", "0.5", "2.25", ".5", "1e3", "1e-2", "7", "12"],
    "NAME": ["x", "y", "z", "t", "a", "b", "w", "theta", "θ", "x_1", "θ₁", "w2", "α", "xy"],
    "INDEXED": ["x_i", "y_i"],
    "FUNC": ["sin", "cos", "tan", "exp", "ln", "log", "sqrt", "√", "abs", "tanh", "sigmoid", "σ", "relu",
             "softplus", "atan", "asin", "sinh", "cosh", "max", "min", "sign", "erf", "cbrt", "log10", "log_2",
             "f", "g", "sec", "floor", "ceil", "round", "sinc", "cosine", "pow", "root"],
    "CONST": ["pi", "π", "e"],
    "PLUS": ["+"], "MINUS": ["-", "−"], "TIMES": ["*", "·", "×"], "DIVIDE": ["/"], "POW": ["^", "**"],
    "SUP": ["²", "³", "⁻¹", "¹⁰"], "LPAR": ["("], "RPAR": [")"], "LBRACK": ["["], "RBRACK": ["]"],
    "LBAR": ["|"], "RBAR": ["|"], "COMMA": [","],
}


def declared_terminals() -> list[str]:
    for line in GRAMMAR.read_text(encoding="utf-8").splitlines():
        if line.startswith("%declare"):
            return line.split()[1:]
    raise AssertionError("the grammar declares no terminals")


def expressions() -> st.SearchStrategy[str]:
    """Inputs drawn from the grammar file, each token followed by a space."""
    from hypothesis.extra.lark import from_lark
    from lark import Lark

    grammar = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic", start="start")
    explicit = {}
    for name in declared_terminals():
        assert name in SPELLINGS, f"give the new terminal {name} spellings in tests/test_properties.py"
        explicit[name] = st.sampled_from(SPELLINGS[name]).map(lambda s: s + " ")
    return from_lark(grammar, start="start", explicit=explicit).map(str.strip)


class GrammarWalker:
    """A fast random walk over the same grammar file, for long runs (``from_lark`` retries a lot).

    Each nonterminal expands to a random alternative; past ``depth`` levels it takes the
    alternative that ends soonest, so every walk terminates and sizes stay modest.
    """

    def __init__(self) -> None:
        from lark import Lark

        grammar = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic", start="start")
        self.rules: dict[str, list[tuple[object, ...]]] = {}
        for rule in grammar.rules:
            self.rules.setdefault(rule.origin.name, []).append(tuple(rule.expansion))
        self.height = self._heights()

    def _heights(self) -> dict[str, float]:
        """How many levels each nonterminal needs at least to end in terminals (a fixpoint)."""
        height = {name: float("inf") for name in self.rules}
        changed = True
        while changed:
            changed = False
            for name, alternatives in self.rules.items():
                for expansion in alternatives:
                    h = 1 + max((height[s.name] for s in expansion if not s.is_term), default=0)
                    if h < height[name]:
                        height[name], changed = h, True
        return height

    def text(self, rng: random.Random, depth: int | None = None) -> str:
        depth = rng.randint(3, 12) if depth is None else depth
        out: list[str] = []
        stack: list[tuple[object, int]] = [(_NonTerminal("start"), 0)]
        while stack:
            symbol, level = stack.pop()
            if symbol.is_term:  # type: ignore[attr-defined]
                out.append(rng.choice(SPELLINGS[symbol.name]))  # type: ignore[attr-defined]
                continue
            alternatives = self.rules[symbol.name]  # type: ignore[attr-defined]
            if level >= depth:
                best = min(self._cost(e) for e in alternatives)
                alternatives = [e for e in alternatives if self._cost(e) == best]
            # an empty alternative (no arguments: sin()) is valid grammar but rarely meant: draw it seldom
            weights = [0.1 if not e else 1.0 for e in alternatives]
            expansion = rng.choices(alternatives, weights)[0]
            stack.extend((s, level + 1) for s in reversed(expansion))
        return " ".join(out)

    def _cost(self, expansion: tuple[object, ...]) -> float:
        if not expansion:  # ending on "no arguments" would make every deep call sin()
            return float("inf")
        return max((self.height[s.name] for s in expansion if not s.is_term), default=0)  # type: ignore[attr-defined]


class _NonTerminal:
    is_term = False

    def __init__(self, name: str) -> None:
        self.name = name


# the checks, shared with tests/fuzz/fuzz.py ------------------------------------------------------
def check_parse(text: str) -> sp.Basic | None:
    """Property 1: an expression, or symgrad's own error (returned as None)."""
    from symgrad.parsing import parse

    try:
        with budget.time_budget(10):
            return parse(text)
    except SymgradError:
        return None


def check_round_trip(expr: sp.Basic) -> None:
    """Property 2: the printed form reads back to the same expression."""
    from symgrad.parsing import parse

    if expr.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo, sp.re, sp.im, sp.arg):
        return  # constants outside the real domain (asin(π)) print as names or re(…): a known gap
    if _longest_integer(expr) > MAX_LITERAL_DIGITS:
        # the documented exception (README, "Limits"): exact arithmetic may build integers longer
        # than a typed literal may be ((10^3)^10)^10 has 3001 digits; products are unbounded), so
        # such a result prints in full but does not read back. Anything shorter must.
        return
    again = parse(str(expr))
    if again == expr:
        return
    pairs = list(zip(again, expr)) if isinstance(expr, sp.Tuple) and isinstance(again, sp.Tuple) else [(again, expr)]
    assert len(pairs) == (len(expr) if isinstance(expr, sp.Tuple) else 1), (str(expr), str(again))
    for a, b in pairs:
        assert sp.simplify(a - b) == 0 or _equal_at_points(a, b), (str(expr), str(again))


def _equal_at_points(a: sp.Basic, b: sp.Basic) -> bool:
    """Equal at 50 digits wherever both are real at six seeded points (and real somewhere): for
    SymPy's non-canonical forms simplify cannot prove equal (its sqrt(|w³|) is sqrt(|w|)·|w|,
    while sqrt(|w|)·|w| typed is |w|^(3/2))."""
    rng = random.Random(str(a))
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    compared = 0
    for _ in range(6):
        point = {s: sp.Rational(rng.randint(-3000, 3000), 1000) for s in symbols}
        left, right = _at(a, point, 50), _at(b, point, 50)
        if left is None or right is None:  # no real value (or no oracle) here
            continue
        if abs(left - right) > mpmath.mpf(10) ** -40 * max(1, abs(left)):
            return False
        compared += 1
    return compared > 0


def _longest_integer(expr: sp.Basic) -> int:
    """Digits of the longest integer in ``expr`` (numerators and denominators of its rationals)."""
    longest = 0
    for atom in expr.atoms(sp.Rational):
        for part in (atom.p, atom.q):
            # bit length bounds the digits from above: no str() of a 30 000-digit number here
            if abs(part).bit_length() * 0.30103 > MAX_LITERAL_DIGITS - 2:
                longest = max(longest, len(str(abs(part))))
    return longest


ORACLE_SECONDS = 5.0
"""At most this long for one high-precision value; past it the point has no oracle (a skip)."""

_KINKS = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.floor, sp.ceiling)


def _kink_arguments(expr: sp.Basic) -> list[sp.Expr]:
    from symgrad.vocabulary.functions import STEP_FUNCTIONS, relu

    args: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if type(node) in STEP_FUNCTIONS:  # floor, ceil, round jump at every whole number (or half)
            args.append(sp.sin(sp.pi * (node.args[0] - STEP_FUNCTIONS[type(node)])))
        elif isinstance(node, (sp.Max, sp.Min)):
            items = list(node.args)
            args.extend(a - b for i, a in enumerate(items) for b in items[i + 1:])
        elif isinstance(node, (*_KINKS, relu)):
            args.append(node.args[0])
    return args


def _at(expr: sp.Basic, point: dict[sp.Symbol, sp.Rational], digits: int = 50) -> mpmath.mpf | None:
    """A real value at high precision, or None where there is none (or it is too large to trust)."""
    from symgrad.magnitude import certain, explosive

    if explosive(expr, point):
        return None
    # SymPy's evalf adds the digits a huge argument needs (sin(10^118)) only for sin, cos and tan;
    # sec, csc and cot go through mpmath at the working precision and come back as noise
    # (sec(exp(100e)) at 90 digits is 1.06..., the truth -1.04...): the oracle writes them out
    expr = expr.replace(sp.sec, lambda u: 1 / sp.cos(u)).replace(sp.csc, lambda u: 1 / sp.sin(u))
    expr = expr.replace(sp.cot, lambda u: sp.cos(u) / sp.sin(u))
    if not certain(expr, point):  # exact rational powers can hang in C: the oracle uses floats of as many digits
        point = {k: sp.Float(v, digits + 10) for k, v in point.items()}
    try:
        # evalf can loop for minutes on a complex intermediate (asec(sinh(1/y)) at y = -1.4, even
        # at 15 digits): then there is no oracle here, which only skips the input, never fails it
        with budget.time_budget(ORACLE_SECONDS):
            value = expr.evalf(digits, subs=point)
    except (ValueError, TypeError, ArithmeticError, BudgetExceeded):  # SymPy gives up on some values
        return None
    if not value.is_number or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    re_part, im_part = (part.evalf(digits) for part in value.as_real_imag())
    if not all(p.is_Float or p.is_Rational for p in (re_part, im_part)):
        return None
    if im_part != 0 and abs(im_part) > sp.Float(10) ** (-digits // 2):
        return None
    number = mpmath.mpf(sp.Float(re_part, digits)._mpf_)
    if not mpmath.isfinite(number) or abs(number) > mpmath.mpf(10) ** 30:
        return None
    return number


def _settled_difference(expr: sp.Basic, var: sp.Symbol, point: dict[sp.Symbol, sp.Rational],
                        scale: mpmath.mpf) -> mpmath.mpf | None:
    """A central difference that has settled: two step sizes 10^10 apart agree to 1e-10·scale.

    One fixed step is not enough: sin(x⁶⁰) at x = 2.46 turns through 10²⁵ radians per unit, so a
    step of 10⁻²⁰ spans thousands of periods and the difference means nothing. Steps shrink from
    10⁻²⁰ to 10⁻⁵⁰ (values carry 130 digits, so 10⁻⁵⁰ still leaves 80 of them) until two
    neighbours agree; the finer one is the estimate. A wrong derivative cannot hide here: settled
    differences converge to the true derivative. If none settle, there is no oracle (None).
    """
    previous = None
    for k in (20, 30, 40, 50):
        h = sp.Rational(1, 10**k)
        before = _at(expr, {**point, var: point[var] - h}, 130)
        after = _at(expr, {**point, var: point[var] + h}, 130)
        if before is None or after is None:
            return None
        estimate = (after - before) / (2 * mpmath.mpf(10) ** -k)
        if previous is not None and abs(estimate - previous) <= mpmath.mpf("1e-10") * scale:
            return estimate
        previous = estimate
    return None


def random_point(expr: sp.Basic, rng: random.Random) -> dict[sp.Symbol, sp.Rational]:
    symbols = sorted(expr.free_symbols, key=str)
    return {s: sp.Rational(rng.randint(-2500, 2500), 1000) for s in symbols}


def check_derivative(expr: sp.Basic, rng: random.Random, steps: bool = True) -> str:
    """Properties 3 and 4 at one random point; says whether it checked or why it skipped."""
    from sympy.core.function import AppliedUndef

    from symgrad import calculus
    from symgrad.expressions import default_variable

    if isinstance(expr, sp.Tuple) or not expr.free_symbols or expr.atoms(AppliedUndef) or expr.has(sp.Indexed):
        return "skip: no function of real variables"
    try:
        var = default_variable(expr)
    except SymgradError as exc:  # a function real nowhere (asin(10) + x) is refused: said, not crashed
        return f"skip: {exc.message}"
    point = random_point(expr, rng)
    for arg in _kink_arguments(expr):
        kink = _at(arg, point, 30)
        if kink is None or abs(kink) < mpmath.mpf("1e-6"):
            return "skip: at a kink"
    with mpmath.workdps(130):
        here = _at(expr, point, 90)
        if here is None:
            return "skip: not smooth and real here"
        try:
            with budget.time_budget(20):
                d = calculus.derivative(expr, var)
                derived = None
                if steps:
                    from symgrad.steps import derive

                    derived = derive(expr, var)
        except SymgradError as exc:  # a limit met during the work: said, not crashed
            return f"skip: {exc.message}"
        exact = _at(d, point, 90)
        if exact is None:
            return "skip: derivative not real here"
        scale = max(mpmath.mpf(1), abs(exact))
        estimate = _settled_difference(expr, var, point, scale)
        if estimate is None:
            return "skip: finite differences do not settle here"
        assert abs(estimate - exact) <= mpmath.mpf("1e-8") * scale, (str(expr), str(var), point, str(d))
        if derived is not None:
            assert derived.check != "mismatch", (str(expr), str(derived.result), str(d))
            mine = _at(derived.result, point, 90)
            assert mine is not None and abs(mine - exact) <= mpmath.mpf("1e-8") * scale, (str(expr),
                                                                                          str(derived.result))
    return "checked"


# the tests ----------------------------------------------------------------------------------------
def check_all(text: str, rng: random.Random, steps: bool = True) -> str:
    """Every property for one input; returns what happened (for the fuzz script's tally)."""
    expr = check_parse(text)
    if expr is None:
        return "refused"
    check_round_trip(expr)
    return check_derivative(expr, rng, steps=steps)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(expressions(), st.integers(0, 2**32 - 1))
def test_properties_from_lark(text: str, seed: int) -> None:
    """``from_lark`` on the grammar file: parse or refuse, round-trip, derivative = finite differences."""
    check_all(text, random.Random(seed))


def test_properties_on_grammar_walks() -> None:
    """The same properties on 500 fast random walks of the grammar (seeded: reproducible); most walks
    are refused (powers on function names that are not whole, wrong arities), so 500 of them."""
    walker = GrammarWalker()
    rng = random.Random(20_261_123)
    outcomes = [check_all(walker.text(rng), rng) for _ in range(500)]
    assert outcomes.count("checked") >= 15  # the derivative check really ran, not only skipped


def test_walker_covers_the_grammar() -> None:
    """Every terminal of the grammar shows up in the walks (so no notation goes untested)."""
    walker = GrammarWalker()
    rng = random.Random(1)
    seen = set()
    for _ in range(400):
        seen.update(walker.text(rng).split())
    for name in declared_terminals():
        if name != "INDEXED":
            assert seen & set(SPELLINGS[name]), name


@pytest.mark.parametrize(
    "text",
    ["x cos(πx)", "sigmoid(x)", "relu(x) x", "ln|x|", "x^x", "softplus(2x)", "|x|^3", "max(x, x^2)",
     "tanh(x)^2", "e^-x^2", "asin(x/3)", "x^2 y^3"],
)
def test_known_shapes_agree_with_finite_differences(text: str) -> None:
    expr = check_parse(text)
    assert expr is not None
    checked = sum(check_derivative(expr, random.Random(seed)) == "checked" for seed in range(10))
    assert checked >= 3


def test_the_finite_difference_check_can_fail() -> None:
    """A wrong derivative is caught: the oracle is not vacuous."""
    from symgrad import calculus

    x = sp.Symbol("x", real=True)
    real_derivative = calculus.derivative
    try:
        calculus.derivative = lambda e, v=None, order=1: sp.cos(x) * 2  # type: ignore[assignment]
        with pytest.raises(AssertionError):
            check_derivative(sp.sin(x), random.Random(1), steps=False)
    finally:
        calculus.derivative = real_derivative


# misreadings (issue #12): a name with an underscore or a single letter before "(", a prime, a
# transpose or a line break is never read as a product (or a power, or a logarithm base) unnoted
CALL_LIKE = ["leaky_relu", "hard_tanh", "log_sigmoid", "my_func", "loss_fn", "relu_x", "softmax_k", "x_i",
             "theta_j", "w_ab", "log_b", "log_q", "y", "a", "Φ", "θ", "x1", "e", "T"]
MARKS = ["'", "′", "’", "''", "^T", "**T", "^{T}", "^-T", "^ T", "ᵀ", "⊤", ".T", "^\\top"]


def check_call_like(name: str, text: str) -> None:
    """``name(`` appears in ``text``: refused, or a note says how ``name(…)`` was read."""
    from symgrad.parsing import parse_full

    try:
        with budget.time_budget(10):
            parsed = parse_full(text)
    except SymgradError:
        return
    assert any(note.startswith(f"{name}(…) is read as") for note in parsed.notes), (text, parsed.notes)


def check_marked(text: str, first: bool) -> None:
    """A prime or a transpose sign after an operand: always refused; when it is the first thing
    the scanner meets that is wrong, refused for what it is."""
    from symgrad.parsing import parse

    try:
        with budget.time_budget(10):
            parse(text)
    except SymgradError as exc:
        if first:
            assert any(w in exc.message for w in ("transposes need", "a prime after", "derivative notation")), (
                text, exc.message)
        return
    raise AssertionError(f"{text!r} was read as an expression")


def check_line_break(text: str, at: int) -> None:
    """A line break at ``at`` (where ``text`` had a space): refused, or read as that space, with
    neither line a whole expression on its own and the break not between two operands."""
    from symgrad.parsing import parse
    from symgrad.parsing.lexer import Scanner

    broken = text[:at] + "\n" + text[at + 1:]
    try:
        with budget.time_budget(10):
            read = parse(broken)
    except SymgradError:
        return
    assert read == parse(text), broken
    wholes = []
    for part in (text[:at], text[at + 1:]):
        try:
            parse(part)
            wholes.append(part)
        except SymgradError:
            pass
    assert len(wholes) < 2, (broken, "two whole expressions joined")
    tokens = list(Scanner(text, 1000).tokens())
    before = [t for t in tokens if t.end_pos <= at][-1:]
    after = [t for t in tokens if t.start_pos > at][:1]
    ends = {"NAME", "INDEXED", "NUMBER", "CONST", "RPAR", "RBRACK", "RBAR", "SUP"}
    starts = {"NAME", "INDEXED", "NUMBER", "CONST", "FUNC", "LPAR", "LBRACK", "LBAR"}
    if before and after:
        assert not (before[0].type in ends and after[0].type in starts), (broken, "a product across lines")


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(expressions(), st.sampled_from(CALL_LIKE), st.sampled_from(MARKS),
       st.sampled_from(["x", "y_i", "θ", "w2", "x[2]"]), st.integers(0, 10**6))
def test_misreadings_from_lark(text: str, name: str, mark: str, operand: str, where: int) -> None:
    """``from_lark`` on the grammar file: no call-like name, prime, transpose or line break is
    ever read as a product (or a power) without a note."""
    shape = where % 3
    check_call_like(name, [f"{name}({text})", f"{text} * {name}({text})", f"{name} ({text}) + {text}"][shape])
    check_marked(f"{operand}{mark} + ({text})", first=True)
    check_marked(f"({text}){mark}", first=False)
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if spaces:
        check_line_break(text, spaces[where % len(spaces)])
    check_line_break(f"{text} {text}", len(text))


def test_misreading_properties_on_grammar_walks() -> None:
    """The same properties on seeded walks of the grammar: more inputs, same checks."""
    walker = GrammarWalker()
    rng = random.Random(12)
    for _ in range(600):
        first, second = walker.text(rng), walker.text(rng)
        name = rng.choice(CALL_LIKE)
        check_call_like(name, rng.choice([f"{name}({first})", f"{first} * {name}({second})"]))
        check_marked(f"{rng.choice(['x', 'θ', 'y_i'])}{rng.choice(MARKS)} {first}", first=True)
        check_marked(f"({first}){rng.choice(MARKS)}", first=False)
        spaces = [i for i, ch in enumerate(first) if ch == " "]
        for at in rng.sample(spaces, min(3, len(spaces))):
            check_line_break(first, at)
        check_line_break(f"{first} {second}", len(first))
