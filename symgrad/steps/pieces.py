"""Piecewise-aware comparison: where |u|, sign, Heaviside, relu, max/min and Piecewise switch, and
the smooth formula each side of the switch follows.

Stage: step engine (used by ``verify.compare``, so by the self-check and by ``symgrad check``). Two
expressions with kinks or jumps agree everywhere exactly when they agree on every piece: between
the kinks each switch takes one branch (|u| is u or −u, H(u) is 1 or 0, max(a, b) is a or b), and
what is left is a smooth formula that exact tests and sample points can judge. This module finds
the switches (``switches``), their branch at a point (``pieces_at``), every combination of
branches (``all_pieces``), and where a switch changes branch along one variable
(``breakpoints``: exact roots of polynomials, ``solveset`` for the rest), so that the sample
points can be put on both sides of every kink.

To teach it a new switch: add its class to ``_KINDS`` with the functions whose sign decides the
branch (``_functions``), how a branch is chosen at a point (``_choose``) and what the branch is
(``_branch``).

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> e = 2 * x + sp.Heaviside(x - 10)
>>> nodes = switches(e)
>>> nodes
[Heaviside(x - 10)]
>>> pieces_at([e], nodes, {x: sp.Integer(12)})
((1,), [2*x + 1])
>>> [float(r) for r in breakpoints(nodes, x).roots]
[10.0]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence

import sympy as sp

from symgrad.budget import check
from symgrad.records import record
from symgrad.vocabulary.functions import relu

_ROUNDING = (sp.floor, sp.ceiling, sp.frac)
_KINDS: tuple[type, ...] = (sp.Abs, sp.sign, sp.Heaviside, relu, sp.DiracDelta, sp.Max, sp.Min, sp.Piecewise,
                            *_ROUNDING)
"""The switches: functions that follow a different smooth formula on each side of a kink or jump."""

MAX_COMBINATIONS = 64
"""Combinations of branches tried one by one (``all_pieces``); beyond it, sample points only."""

MAX_DEGREE = 30
"""Degree of a polynomial whose real roots are located exactly; beyond it, ``solveset``."""

SOLVE_SIZE = 60
"""Tree size of a switch function handed to ``solveset``: beyond it the search could take long."""

SOLVE_SECONDS = 1.0
"""Time ``solveset`` may take for one switch function; past it the kink counts as not located."""

PERIODS = range(-3, 4)
"""Which solutions of a periodic family (``ImageSet``) are used as breakpoints: a few periods
around 0 put points on both sides of each kind of kink."""

EPSILON = sp.Rational(1, 10**25)
"""Closer than this to a kink (relative to its scale) a point does not say which side it is on."""


def switches(*exprs: sp.Basic) -> list[sp.Basic]:
    """The switch nodes of ``exprs``, innermost first, each once.

    >>> x = sp.Symbol("x", real=True)
    >>> switches(sp.Abs(sp.Abs(x) - 1) + sp.sign(x))
    [Abs(x), Abs(Abs(x) - 1), sign(x)]
    """
    seen: dict[sp.Basic, None] = {}
    for expr in exprs:
        for node in sp.postorder_traversal(expr):
            if isinstance(node, _KINDS) and node not in seen:
                seen[node] = None
    return list(seen)


def _functions(node: sp.Basic, args: Sequence[sp.Basic]) -> list[sp.Expr]:
    """The functions whose signs decide the branch of ``node`` (with arguments ``args``)."""
    if isinstance(node, (sp.Max, sp.Min)):
        return [p - q for p, q in itertools.combinations(args, 2)]
    if isinstance(node, sp.Piecewise):
        out = []
        for _, cond in args:
            for rel in getattr(cond, "atoms", lambda *_: ())(sp.core.relational.Relational):
                out.append(rel.lhs - rel.rhs)
        return out
    return [args[0]]


def _choices(node: sp.Basic) -> Sequence[int] | None:
    """Every branch ``node`` can take, or None when there are infinitely many (floor)."""
    if isinstance(node, (sp.Max, sp.Min, sp.Piecewise)):
        return range(len(node.args))
    if isinstance(node, sp.DiracDelta):
        return (0,)
    if isinstance(node, _ROUNDING):
        return None
    return (1, -1)


def sign_at(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> int | None:
    """The sign of ``expr`` at ``point``, or None where it is 0, too close to 0 to tell, not a real
    number, or too large to evaluate (``magnitude.explosive``).

    >>> x = sp.Symbol("x", real=True)
    >>> sign_at(x - 5, {x: sp.Rational(51, 10)}), sign_at(sp.sin(x), {x: sp.pi}), sign_at(sp.log(x), {x: -1})
    (1, None, None)
    """
    number = _number(expr, point, 30)
    if number is None:
        return None
    scale = max([sp.S.One, *(abs(v) for v in point.values() if getattr(v, "is_Rational", False))])
    if abs(number) <= EPSILON * scale:
        return None
    return 1 if number > 0 else -1


def too_large(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> bool:
    """Whether evaluating ``expr`` at ``point`` with ``evalf`` would explode (``magnitude.explosive``).
    The point is given as Floats: ``evalf`` raises exact values to powers in floating point, so
    (x + 2)¹⁰⁰⁰⁰⁰⁰ at x = 3/10 is quick, and only the size of the numbers matters."""
    from symgrad.magnitude import explosive

    return explosive(expr, {k: sp.Float(v, 20) if getattr(v, "is_Rational", False) else v
                            for k, v in point.items()}) is not None


def _number(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic], digits: int) -> sp.Float | None:
    """``expr`` at ``point`` as an accurate real Float (adaptive ``evalf``), else None."""
    if too_large(expr, point):
        return None
    try:
        number = expr.evalf(digits, subs=dict(point)) if point else expr.evalf(digits)
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if number.is_Rational:
        return sp.Float(number, digits)
    if not number.is_Float or not number.is_finite or number._prec < 20:
        return None  # complex, symbolic, infinite, or every digit lost to cancellation (a zero)
    return number


def _choose(node: sp.Basic, args: Sequence[sp.Basic], point: Mapping[sp.Basic, sp.Basic]) -> int | None:
    """The branch ``node`` takes at ``point``, or None on (or too near) a kink."""
    if isinstance(node, (sp.Max, sp.Min)):
        best = 0
        for i in range(1, len(args)):
            s = sign_at(args[i] - args[best], point)
            if s is None:
                return None
            if (s > 0) == isinstance(node, sp.Max):
                best = i
        return best
    if isinstance(node, sp.Piecewise):
        for i, (_, cond) in enumerate(args):
            truth = _truth(cond, point)
            if truth is None:
                return None
            if truth:
                return i
        return None
    if isinstance(node, _ROUNDING):
        number = _number(args[0], point, 40)
        if number is None:
            return None
        n = int(sp.floor(number))
        if abs(number - n) < EPSILON or abs(number - n - 1) < EPSILON:
            return None  # on a jump
        return n
    side = sign_at(args[0], point)
    if side is None and isinstance(node, sp.Abs) and _complex_at(args[0], point):
        return 0  # |u| of a complex u (|√g| for g < 0) is real but has no smooth branch: kept as it is
    return side


def _complex_at(expr: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> bool:
    if too_large(expr, point):
        return False
    try:
        value = expr.evalf(20, subs=dict(point))
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return False
    return bool(value.is_number and value.is_finite and value.is_extended_real is False)


def _truth(cond: sp.Basic, point: Mapping[sp.Basic, sp.Basic]) -> bool | None:
    if cond is sp.true or cond is sp.false:
        return bool(cond)
    if isinstance(cond, sp.core.relational.Relational):
        if isinstance(cond, (sp.Eq, sp.Ne)):
            s = sign_at(cond.lhs - cond.rhs, point)
            return None if s is None else isinstance(cond, sp.Ne)
        s = sign_at(cond.lhs - cond.rhs, point)
        if s is None:
            return None
        return (s > 0) if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)) else (s < 0)
    if isinstance(cond, (sp.And, sp.Or, sp.Not)):
        parts = [_truth(c, point) for c in cond.args]
        if any(p is None for p in parts):
            return None
        if isinstance(cond, sp.Not):
            return not parts[0]
        return all(parts) if isinstance(cond, sp.And) else any(parts)
    return None


def _branch(node: sp.Basic, args: Sequence[sp.Basic], choice: int) -> sp.Expr:
    """The smooth formula ``node`` follows on its branch ``choice``."""
    if isinstance(node, sp.Abs):
        return sp.Abs(args[0]) if choice == 0 else (args[0] if choice > 0 else -args[0])
    if isinstance(node, sp.sign):
        return sp.Integer(choice)
    if isinstance(node, sp.Heaviside):
        return sp.S.One if choice > 0 else sp.S.Zero
    if isinstance(node, relu):
        return args[0] if choice > 0 else sp.S.Zero
    if isinstance(node, sp.DiracDelta):
        return sp.S.Zero  # zero away from its root, which has no width
    if isinstance(node, (sp.Max, sp.Min)):
        return args[choice]
    if isinstance(node, sp.Piecewise):
        return args[choice][0]
    if isinstance(node, sp.floor):
        return sp.Integer(choice)
    if isinstance(node, sp.ceiling):
        return sp.Integer(choice + 1)
    return args[0] - choice  # frac


def _rebuild(expr: sp.Basic, pick: Callable[[sp.Basic, Sequence[sp.Basic]], int | None],
             memo: dict[sp.Basic, sp.Basic | None]) -> sp.Basic | None:
    """``expr`` with every switch replaced by the branch ``pick`` chooses, innermost first; None if
    ``pick`` cannot choose one."""
    if expr in memo:
        return memo[expr]
    if not expr.args or not expr.has(*_KINDS):
        memo[expr] = expr
        return expr
    if isinstance(expr, sp.Piecewise):
        args: list[sp.Basic] = []
        for e, c in expr.args:
            ne, nc = _rebuild(e, pick, memo), _rebuild(c, pick, memo)
            if ne is None or nc is None:
                memo[expr] = None
                return None
            args.append(sp.Tuple(ne, nc))
    else:
        args = []
        for a in expr.args:
            na = _rebuild(a, pick, memo)
            if na is None:
                memo[expr] = None
                return None
            args.append(na)
    if isinstance(expr, _KINDS):
        choice = pick(expr, args)
        result = None if choice is None else _branch(expr, args, choice)
    else:
        result = expr.func(*args)
    memo[expr] = result
    return result


def pieces_at(exprs: Sequence[sp.Basic], nodes: Sequence[sp.Basic],
              point: Mapping[sp.Basic, sp.Basic]) -> tuple[tuple[int, ...], list[sp.Basic]] | None:
    """The branch of every switch at ``point`` (in the order of ``nodes``) and ``exprs`` with
    those branches: smooth formulas that equal ``exprs`` near ``point``. None when ``point`` is on
    (or too near) a kink."""
    chosen: dict[sp.Basic, int] = {}

    def pick(node: sp.Basic, args: Sequence[sp.Basic]) -> int | None:
        c = _choose(node, args, point)
        if c is not None:
            chosen[node] = c
        return c

    memo: dict[sp.Basic, sp.Basic | None] = {}
    out = []
    for e in exprs:
        piece = _rebuild(e, pick, memo)
        if piece is None:
            return None
        out.append(piece)
    return tuple(chosen.get(n, 0) for n in nodes), out


def all_pieces(exprs: Sequence[sp.Basic], nodes: Sequence[sp.Basic]) -> Iterator[list[sp.Basic]] | None:
    """``exprs`` under every combination of branches of ``nodes``, or None when there are more than
    ``MAX_COMBINATIONS`` (or infinitely many). Agreeing under all of them is agreeing everywhere,
    whichever combinations actually occur."""
    options = [_choices(n) for n in nodes]
    if any(o is None for o in options):
        return None
    total = 1
    for o in options:
        total *= len(o)  # type: ignore[arg-type]
    if total > MAX_COMBINATIONS:
        return None

    def generate() -> Iterator[list[sp.Basic]]:
        for combination in itertools.product(*options):  # type: ignore[arg-type]
            check("comparing piece by piece")
            table = dict(zip(nodes, combination))
            memo: dict[sp.Basic, sp.Basic | None] = {}
            yield [_rebuild(e, lambda node, args, chosen=table: chosen[node], memo) for e in exprs]  # type: ignore[misc]

    return generate()


@record
class Breakpoints:
    """Where the switches change branch along one variable: ``roots`` (sorted, as Floats of 40
    digits), ``complete`` when every switch's every change along it is among them (no switch
    depends on another variable too, none has infinitely many or unknown roots)."""

    roots: tuple[sp.Float, ...]
    complete: bool


def breakpoints(nodes: Sequence[sp.Basic], var: sp.Symbol, cap: int = 16) -> Breakpoints:
    """The kinks and jumps of ``nodes`` along ``var`` (see ``Breakpoints``). A switch inside a
    switch's argument is resolved branch by branch: |(|x| − 1)| changes at x = 0 and x = ±1."""
    roots: set[sp.Float] = set()
    complete = True
    for node in nodes:
        check("locating the kinks")
        if isinstance(node, _ROUNDING):
            complete = False  # a jump at every whole number
            continue
        for f in _functions(node, node.args):
            inner = switches(f)
            variants = all_pieces([f], inner) if inner else iter([[f]])
            if variants is None:
                complete = False
                continue
            for count, (g,) in enumerate(variants):
                if count >= cap:
                    complete = False
                    break
                if var not in g.free_symbols:
                    continue
                if g.free_symbols - {var}:
                    complete = False
                    continue
                found = _real_roots(g, var)
                if found is None:
                    complete = False
                    continue
                values, exhaustive = found
                roots.update(values)
                complete = complete and exhaustive
    return Breakpoints(tuple(sorted(roots)), complete)


def domain_edges(exprs: Sequence[sp.Basic], var: sp.Symbol, cap: int = 12) -> tuple[sp.Float, ...]:
    """Where the real domain of ``exprs`` may end along ``var``: the roots of what √, ln, asin,
    acosh, … need to be positive or within ±1 (only those that depend on ``var`` alone). Points on
    both sides of them reach a narrow domain (asin(100x) is real for |x| < 0.01 only).

    >>> x = sp.Symbol("x", real=True)
    >>> [float(r) for r in domain_edges([sp.asin(100 * x) + sp.sqrt(x - 10**5)], x)]
    [-0.01, 0.01, 100000.0]
    """
    limits: list[sp.Expr] = []
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if node.is_Pow and not node.exp.is_Integer:
                limits.append(node.base)
            elif isinstance(node, sp.log):
                limits.append(node.args[0])
            elif isinstance(node, (sp.asin, sp.acos, sp.atanh, sp.acoth, sp.asec, sp.acsc)):
                limits += [node.args[0] - 1, node.args[0] + 1]
            elif isinstance(node, (sp.acosh, sp.asech)):
                limits += [node.args[0] - 1, node.args[0]]
    roots: set[sp.Float] = set()
    for f in dict.fromkeys(limits):
        if len(roots) >= cap:
            break
        if f.free_symbols != {var} or f.has(*_KINDS):
            continue
        check("locating where the domain ends")
        found = _real_roots(f, var)
        if found is not None:
            roots.update(found[0])
    return tuple(sorted(roots))[:cap]


def _real_roots(f: sp.Expr, var: sp.Symbol) -> tuple[list[sp.Float], bool] | None:
    """The real roots (and poles) of ``f`` along ``var`` as 40-digit Floats, and whether that is all
    of them; None when they cannot be located."""
    num, den = sp.fraction(sp.together(f))
    out: list[sp.Float] = []
    exhaustive = True
    for part in (num, den):
        if not part.has(var):
            continue
        found = _poly_roots(part, var)
        if found is None:
            found = _solved_roots(part, var)
        if found is None:
            return None
        values, whole = found
        out.extend(values)
        exhaustive = exhaustive and whole
    return out, exhaustive


def _poly_roots(p: sp.Expr, var: sp.Symbol) -> tuple[list[sp.Float], bool] | None:
    try:
        poly = sp.Poly(p, var)
    except sp.PolynomialError:
        return None
    if not poly.is_univariate or poly.degree() > MAX_DEGREE or not all(c.is_number for c in poly.all_coeffs()):
        return None
    if poly.degree() <= 0:
        return [], True
    check("locating the kinks")
    try:
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            return [sp.Float(r.evalf(40), 40) for r in sp.Poly(poly.sqf_part()).real_roots()], True
        values = sp.Poly(poly.sqf_part()).nroots(n=40, maxsteps=200)
    except (sp.PolynomialError, NotImplementedError, ValueError, ArithmeticError):
        return None
    return [sp.Float(v, 40) for v in values if v.is_real or abs(sp.im(v)) < 1e-30], True


def _solved_roots(f: sp.Expr, var: sp.Symbol) -> tuple[list[sp.Float], bool] | None:
    if sum(1 for _ in sp.preorder_traversal(f)) > SOLVE_SIZE:
        return None
    check("locating the kinks")
    from symgrad.budget import time_budget
    from symgrad.errors import BudgetExceeded

    try:
        with time_budget(SOLVE_SECONDS):  # solveset can search for long: then the kink is not located
            solutions = sp.solveset(f, var, sp.S.Reals)
    except BudgetExceeded:
        check("locating the kinks")  # the whole command's budget, if that is what ran out
        return None
    except (NotImplementedError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    parts = solutions.args if isinstance(solutions, sp.Union) else (solutions,)
    out: list[sp.Float] = []
    exhaustive = True
    for part in parts:
        if isinstance(part, sp.FiniteSet):
            candidates = list(part)
        elif isinstance(part, sp.ImageSet) and len(part.lamda.variables) == 1:
            candidates = [part.lamda(n) for n in PERIODS]
            exhaustive = False
        elif part is sp.S.EmptySet:
            continue
        else:
            return None
        for c in candidates:
            value = sp.N(c, 40)
            if value.is_Rational:
                value = sp.Float(value, 40)
            if value.is_Float:
                out.append(sp.Float(value, 40))
            elif not (value.is_number and not value.is_real):
                return None
    return out, exhaustive
