"""Worked steps in every output format: plain, rich, LaTeX (compiles when TeX is installed),
Markdown, JSON, and the Jupyter hooks."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import sympy as sp
from conftest import x, y

from symgrad.parsing import parse
from symgrad.render.backends import to_latex, to_markdown, to_plain
from symgrad.render.document import Document
from symgrad.render.narrate.steps import TableBlock, derivation_document
from symgrad.steps import derive

ANSI = re.compile(r"\x1b\[")


def test_plain_tells_product_and_chain_with_the_pi_factor(cli) -> None:
    res = cli("diff", "x*cos(pi*x)", "--format", "plain")
    assert res.exit_code == 0
    out = res.stdout
    assert not ANSI.search(out)
    assert "1. Product rule" in out and "Chain rule: let u = π·x" in out
    assert "(-sin(π·x))·π = -π·sin(π·x)" in out  # the inner derivative π, shown before it is multiplied in
    assert out.rstrip().endswith("d/dx [x·cos(π·x)] = -π·x·sin(π·x) + cos(π·x)")


def test_plain_sigmoid_ends_in_sigma_form(cli) -> None:
    out = cli("diff", "sigmoid(x)", "--format", "plain").stdout
    assert out.rstrip().endswith("d/dx [σ(x)] = σ(x)·(1 - σ(x))")


def test_plain_partial_says_treat_as_constant(cli) -> None:
    out = cli("grad", "x^2 y + y^3", "--format", "plain").stdout
    assert "treat y as a constant" in out and "treat x as a constant" in out
    assert "∇f(x, y) = (2·x·y, x² + 3·y²)" in out


def test_plain_notes_undefined_points(cli) -> None:
    out = cli("diff", "relu(x) + |x|", "--format", "plain").stdout
    assert out.count("undefined at x = 0") == 2


def test_plain_repeat_refers_back() -> None:
    out = to_plain(derivation_document(derive("(x^2 + 1) sin(x^2 + 1)")))
    numbers = re.findall(r"(\d+)\. Sum rule", out)
    assert f"worked out in step {numbers[0]}" in out


def test_no_steps_shows_only_the_result(cli) -> None:
    out = cli("diff", "x^x", "--no-steps", "--format", "plain").stdout
    assert "Steps" not in out and "Logarithmic" not in out
    assert out.strip().splitlines()[-1] == "d/dx [x^x] = x^x·(ln(x) + 1)"
    grad = cli("grad", "x y", "--no-steps", "--format", "plain").stdout
    assert "Steps" not in grad and "∇f(x, y) = (y, x)" in grad


def test_rich_is_a_tree_with_rule_names(cli) -> None:
    res = cli("diff", "x^x", "--format", "rich")
    assert res.exit_code == 0
    assert "Logarithmic differentiation" in res.stdout and "Product rule" in res.stdout
    assert "└──" in res.stdout
    assert "x^x·(ln(x) + 1)" in res.stdout


def test_rich_highlights_rule_names() -> None:
    from rich.console import Console

    from symgrad.render.backends import to_rich

    console = Console(record=True, force_terminal=True, width=100, color_system="truecolor")
    with console.capture() as cap:
        to_rich(derivation_document(derive("x sin x")), console)
    text = cap.get()
    assert ANSI.search(text)  # styled on a terminal
    assert "Product rule" in re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_latex_is_an_align_derivation(cli) -> None:
    out = cli("diff", "x cos(πx)", "--format", "latex").stdout
    assert out.count(r"\begin{align*}") == out.count(r"\end{align*}") == 1
    assert r"\textbf{Chain rule}" in out and r"let $u = \pi x$" in out
    assert r"\boxed{" in out
    assert "π" not in out.split(r"\begin{align*}")[1]


@pytest.mark.parametrize("args", [
    ["diff", "x cos(πx)"], ["diff", "sigmoid(x)", "--order", "2"], ["grad", "θ1^2 x + sin(x θ1)"],
    ["diff", "relu(2x) + |x| + max(x, x^2)"], ["check", "x cos(pi x)", "--answer", "cos(pi x)"], ["table"],
    ["diff", "f(g(x)) + x^x"],
])
def test_latex_standalone_compiles(cli, tmp_path, args: list[str]) -> None:
    res = cli(*args, "--format", "latex", "--standalone")
    assert res.exit_code == 0
    assert res.stdout.startswith(r"\documentclass") and res.stdout.rstrip().endswith(r"\end{document}")
    engine = shutil.which("pdflatex")
    if engine is None:
        pytest.skip("no TeX engine installed")
    (tmp_path / "doc.tex").write_text(res.stdout, encoding="utf-8")
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_standalone_needs_latex(cli) -> None:
    res = cli("diff", "x^2", "--standalone", "--format", "plain")
    assert res.exit_code == 2 and "--format latex" in res.stderr


def test_markdown_uses_dollar_math(cli) -> None:
    out = cli("diff", "x cos(πx)", "--format", "markdown").stdout
    assert "- **(1) Product rule**" in out and "  - **(3) Chain rule**" in out
    assert r"$u = \pi x$" in out
    assert out.count("$") % 2 == 0


def test_jupyter_hooks() -> None:
    d = derive("x sin x")
    latex = d._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert r"\text{(1) Product rule}" in latex
    md = d._repr_markdown_()
    assert "**(1) Product rule**" in md and "$" in md


def test_json_diff_has_steps_and_keeps_keys(cli) -> None:
    data = cli("diff", "x cos(πx)", "--format", "json").json()
    assert {"command", "input", "expression", "variables", "wrt", "order", "result", "latex", "notes", "check",
            "steps"} <= set(data)
    root = data["steps"][0]
    assert root["rule"] == "product" and [s["rule"] for s in root["substeps"]] == ["variable", "chain"]
    assert parse(data["result"]) == sp.cos(sp.pi * x) - sp.pi * x * sp.sin(sp.pi * x)
    assert "steps" not in cli("diff", "x^2", "--no-steps", "--format", "json").json()


def test_json_diff_higher_order_has_a_root_per_derivative(cli) -> None:
    data = cli("diff", "sigmoid(x)", "--order", "2", "--format", "json").json()
    assert len(data["steps"]) == 2 and data["steps"][1]["rule"] == "simplify"
    assert "before" in data["steps"][1]


def test_json_grad_partials(cli) -> None:
    data = cli("grad", "x^2 y + y^3", "--format", "json").json()
    assert data["gradient"] == ["2*x*y", "x**2 + 3*y**2"]
    assert [p["wrt"] for p in data["partials"]] == ["x", "y"]
    for p, var in zip(data["partials"], (x, y)):
        assert parse(p["result"]) == sp.diff(parse("x^2 y + y^3"), var)
        assert p["steps"][0]["rule"] == "sum" and p["check"] == "exact"
    assert all("steps" not in p for p in cli("grad", "x y", "--no-steps", "--format", "json").json()["partials"])


def test_help_has_examples(cli) -> None:
    for command in ("diff", "grad", "check", "table"):
        res = cli(command, "--help")
        assert res.exit_code == 0 and "Examples:" in res.stdout
    assert "--no-steps" in cli("diff", "--help").stdout


def test_table_block_in_every_backend() -> None:
    doc = Document((TableBlock(("f", "f′"), ((x**2, 2 * x), ("|x|", x / sp.Abs(x)))),))
    assert "x²" in to_plain(doc) and "2·x" in to_plain(doc)
    assert r"\begin{tabular}" in to_latex(doc)
    assert "| $x^{2}$ | $2 x$ |" in to_markdown(doc)


# labels: every one states the derivative it shows (issue 12) -----------------------------------------
SECOND = (r"\frac{d^{2}}{d x^{2}}\left[\sigma\left(x\right)\right]", "d²/dx² [σ(x)]")
MIXED = (r"\frac{\partial^{2}}{\partial x \partial y}\left[x^{2} y^{3}\right]", "∂²/∂x∂y [x²·y³]")


def test_derivative_label_writes_the_notation() -> None:
    from symgrad.printing.labels import derivative_label

    cases = [((x, 1), "d/dx", r"\frac{d}{d x}"), ((x, 3), "d³/dx³", r"\frac{d^{3}}{d x^{3}}"),
             (([y, x], 1), "∂²/∂x∂y", r"\frac{\partial^{2}}{\partial x \partial y}"),
             (([y, x, x], 1), "∂³/∂x²∂y", r"\frac{\partial^{3}}{\partial x^{2} \partial y}"),
             (([x, y, x], 1), "∂³/∂x∂y∂x", r"\frac{\partial^{3}}{\partial x \partial y \partial x}")]
    for (wrt, order), plain, latex in cases:
        label = derivative_label(wrt, order)
        assert (label.plain, label.latex) == (plain, latex)
    assert derivative_label(x, 2, partial=True).plain == "∂²/∂x²"
    assert derivative_label([y, x], function="f").plain == "∂²f/∂x∂y"


def test_jupyter_labels_state_the_derivative() -> None:
    from symgrad.render.narrate.steps import derivation_latex

    for d, (latex, _) in ((derive("sigmoid(x)", order=2), SECOND), (derive("x^2 y^3", wrt="x,y"), MIXED)):
        assert d._repr_latex_().splitlines()[-2].startswith(latex + " &= ")
        assert r"$$\boxed{" + latex + " = " in d._repr_markdown_()
        assert r"\[ \boxed{" + latex + " = " in derivation_latex(d)
        assert r"\frac{d}{dx}" not in d._repr_latex_() and r"\frac{d}{d x}\left[x^{2} y^{3}" not in d._repr_latex_()


@pytest.mark.parametrize("fmt", ["plain", "rich", "latex", "markdown"])
@pytest.mark.parametrize("answer", ["6 x y^2", "6 x y"])
def test_check_labels_a_mixed_partial_as_mixed(cli, fmt: str, answer: str) -> None:
    out = cli("check", "x^2 y^3", "--wrt", "x,y", "--answer", answer, "--format", fmt).stdout
    latex, plain = MIXED
    assert (latex if fmt in ("latex", "markdown") else plain) in out
    assert "∂²/∂x²" not in out and r"\partial x^{2}" not in out


@pytest.mark.parametrize("fmt", ["plain", "rich", "latex", "markdown"])
def test_second_derivative_labels_in_every_format(cli, fmt: str) -> None:
    latex, plain = SECOND
    for args in (["diff", "sigmoid(x)", "--order", "2"], ["check", "sigmoid(x)", "--order", "2", "--answer", "0"]):
        out = cli(*args, "--format", fmt).stdout
        assert (latex if fmt in ("latex", "markdown") else plain) in out, (args, out)


@pytest.mark.parametrize("fmt", ["plain", "rich", "latex", "markdown"])
def test_mixed_partial_labels_in_every_format(cli, fmt: str) -> None:
    out = cli("diff", "x^2 y^3", "--wrt", "x,x,y", "--format", fmt).stdout
    assert ("∂³f/∂x²∂y" if fmt in ("plain", "rich") else r"\frac{\partial^{3} f}{\partial x^{2} \partial y}") in out
