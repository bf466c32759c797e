"""symgrad backprop: the staged graph, both passes, second order; against torch autograd (a fixture
recorded from torch 2.13, and live where torch is installed) and against symgrad's own gradient."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import sympy as sp

from symgrad.backprop import adjoints, backprop, graph, in_inputs
from symgrad.errors import InputError
from symgrad.render.backends import to_latex, to_markdown, to_plain
from symgrad.render.narrate.backprop import graph_dot


def _recorder():
    path = Path(__file__).parent / "fixtures" / "record_backprop.py"
    spec = importlib.util.spec_from_file_location("record_backprop", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


RECORDER = _recorder()
FIXTURE = json.loads(RECORDER.FIXTURE.read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in FIXTURE["cases"]}


def close(a: float | None, b: float | None, tol: float = 1e-12) -> bool:
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def run_case(case: dict):
    return backprop(case["expression"], case["point"], mode=case.get("mode", "reverse"),
                    direction=case.get("direction"), order=case.get("order", 1), wrt=case.get("wrt"))


def compare(case: dict, theirs: dict) -> None:
    ours = run_case(case)
    g = ours.graph
    assert close(ours.values[g.output], theirs["value"])
    if case.get("mode") == "forward":
        assert close(ours.derivative, theirs["derivative"])
        for name, node in theirs.get("nodes", {}).items():
            k = g.index(name)
            assert close(ours.values[k], node["value"]), name
            assert close(ours.gradients[k], node["tangent"]), name
        return
    for name, value in theirs["gradient"].items():
        assert close(ours.gradient[name], value), name
    for name, node in theirs.get("nodes", {}).items():
        k = g.index(name)
        assert close(ours.values[k], node["value"]), name
        assert close(ours.gradients[k], node["gradient"]), name
    if case.get("order") == 2:
        second = ours.second
        assert close(second.values[second.graph.output], theirs["first"])
        for name, value in theirs["second"].items():
            assert close(second.gradient[name], value), name
        # an input the gradient does not depend on is unconnected in its graph (torch: None)
        consumers = second.graph.consumers()
        unused = [second.graph.nodes[k].name for k in second.graph.inputs if not consumers[k]]
        assert sorted(unused) == sorted(theirs["unused"])


def test_fixture_is_torch_2_13_with_every_case() -> None:
    assert FIXTURE["torch"].startswith(RECORDER.TORCH_VERSION + ".")
    assert set(CASES) == {case["id"] for case in RECORDER.CASES}
    for case in RECORDER.CASES:
        assert {k: v for k, v in CASES[case["id"]].items() if k != "torch_result"} == RECORDER.settings(case)


@pytest.mark.parametrize("key", list(CASES))
def test_matches_recorded_torch(key: str) -> None:
    compare(CASES[key], CASES[key]["torch_result"])


@pytest.mark.parametrize("key", list(CASES))
def test_matches_torch_live(key: str) -> None:
    torch = pytest.importorskip("torch")
    case = next(c for c in RECORDER.CASES if c["id"] == key)
    live = RECORDER.torch_case(torch, case)
    compare(CASES[key], live)
    if torch.__version__.startswith(RECORDER.TORCH_VERSION + "."):
        assert json.loads(json.dumps(live)) == CASES[key]["torch_result"]


def test_a_wrong_number_is_caught() -> None:
    case = CASES["cs231n-neuron"]
    drifted = json.loads(json.dumps(case["torch_result"]))
    drifted["nodes"]["v"]["gradient"] *= 1 + 1e-9
    with pytest.raises(AssertionError):
        compare(case, drifted)


# the classic examples ----------------------------------------------------------------------------------
def test_cs231n_classic() -> None:
    r = backprop("(x + y) z", "x=-2, y=5, z=-4")
    assert [(n.name, n.text) for n in r.graph.nodes if n.kind != "input"] == [("q", "x + y"), ("f", "q·z")]
    assert r.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
    f = r.graph.nodes[r.graph.output]
    q = r.graph.index("q")
    # the local gradient ∂f/∂q is z = -4, ∂f/∂z is q = 3
    local = dict(zip([r.graph.nodes[j].name for j in f.operands], zip(map(str, f.local), r.locals[r.graph.output])))
    assert local == {"q": ("z", -4.0), "z": ("q", 3.0)}
    assert r.gradients[q] == -4.0
    assert r.check == "agrees"
    # the pass runs in reverse topological order and ends in the inputs
    assert [r.graph.nodes[s.node].name for s in r.steps] == ["f", "q", "z", "y", "x"]


def test_cs231n_sigmoid_neuron_staged_as_the_course_stages_it() -> None:
    r = backprop("1/(1 + e^-(w0 x0 + w1 x1 + w2))", "w0=2, x0=-1, w1=-3, x1=-2, w2=-3")
    ops = [(n.kind, n.text) for n in r.graph.nodes if n.kind != "input"]
    assert ops == [("mul", "w₀·x₀"), ("mul", "w₁·x₁"), ("add", "q + r"), ("add", "s + w₂"), ("neg", "-t"),
                   ("exp", "e^u"), ("shift", "v + 1"), ("reciprocal", "1/a")]
    # cs231n: dw = [-0.2, -0.39, 0.2], dx = [0.39, -0.59]
    grad = r.gradient
    assert [round(grad[n], 2) for n in ("w0", "w1", "w2")] == [-0.2, -0.39, 0.2]
    assert [round(grad[n], 2) for n in ("x0", "x1")] == [0.39, -0.59]
    assert round(r.values[r.graph.output], 2) == 0.73
    # the exp gate's local gradient is the node itself, the 1/x gate's -1/x²
    v, f = r.graph.index("v"), r.graph.output
    assert str(r.graph.nodes[v].local[0]) == "v" and str(r.graph.nodes[f].local[0]) == "-1/a**2"


def test_sigmoid_function_is_one_gate_with_its_course_derivative() -> None:
    r = backprop("sigmoid(w x + b)", "w=0.5, x=2, b=-1")
    f = r.graph.nodes[r.graph.output]
    assert f.kind == "function" and str(f.local[0]) == "f*(1 - f)"
    assert close(r.locals[r.graph.output][0], 0.25)


def test_subtraction_and_division_as_taught() -> None:
    g = graph("(x - y)/(x + y)")
    assert [n.text for n in g.nodes if n.kind != "input"] == ["x - y", "x + y", "q/r"]
    assert [n.kind for n in g.nodes if n.kind != "input"] == ["sub", "add", "div"]
    r = backprop("(x - y)/(x + y)", "x=3, y=1")
    assert r.gradient == {"x": 0.125, "y": -0.375}
    assert [n.text for n in graph("-x + y").nodes if n.kind != "input"] == ["y - x"]
    assert [n.text for n in graph("1 - x").nodes if n.kind != "input"] == ["1 - x"]


def test_shared_node_accumulates_and_the_pass_shows_the_sum() -> None:
    r = backprop("sin(x)^2 + sin(x)", "x=0.5")
    g = r.graph
    s = next(k for k, n in enumerate(g.nodes) if n.text == "sin(x)")
    assert len(g.consumers()[s]) == 2
    step = next(st for st in r.steps if st.node == s)
    assert len(step.terms) == 2
    parts = [t.upstream * t.local for t in step.terms]
    assert close(sum(parts), step.value)
    assert close(step.value, 2 * math.sin(0.5) + 1)
    line = next(line for line in to_plain(_doc(r)).splitlines() if line.startswith(f"∂f/∂{g.nodes[s].name} ="))
    assert " + " in line


def _doc(r):
    from symgrad.render.narrate.backprop import backprop_document

    return backprop_document("…", r.graph.expr, (), r)


# agreement with symgrad's own gradient ----------------------------------------------------------------
EXPRESSIONS = [
    "(x + y) z", "1/(1 + e^-(w0 x0 + w1 x1 + w2))", "x cos(πx)", "sin(x)^2 + sin(x) + x^2", "(x - y)/(x + y)",
    "x^y + sqrt(x y)", "tanh(x y) + ln(x) - 3x/y^2", "(sigmoid(w x + b) - y)^2", "2x y - 3x + 1",
    "-x y/z^2", "exp(-x^2) sin(3x)", "softplus(x) - relu(y) + |x - y|", "max(x, y) x", "2^x + x^(3/2)",
    "1/sqrt(x^2 + y^2)", "-(a + b)", "atan(x/y)", "(x + 1)^3 (x - 1)^-2",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_backward_pass_is_symgrads_gradient(text: str) -> None:
    from symgrad import calculus

    g = graph(text)
    adj = adjoints(g)
    variables = [g.nodes[k].symbol for k in g.inputs]
    for k, v in zip(g.inputs, variables):
        ours = in_inputs(g, adj[k])
        theirs = calculus.gradient(g.expr, [v])[0]
        assert sp.simplify(sp.expand(ours - theirs).rewrite(sp.exp)) == 0 or _numerically_equal(ours, theirs, variables)


def _numerically_equal(a: sp.Basic, b: sp.Basic, variables: list[sp.Symbol]) -> bool:
    import random

    rng = random.Random(7)
    for _ in range(5):
        point = {v: sp.Rational(rng.randint(11, 29), 10) for v in variables}
        va, vb = sp.N((a - b).subs(point), 40), sp.N(b.subs(point), 40)
        if abs(va) > 1e-30 * max(1, abs(vb)):
            return False
    return True


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_values_agree_with_symgrads_gradient_at_a_point(text: str) -> None:
    g = graph(text)
    point = {g.nodes[k].name: 0.3 + 0.37 * k for k in g.inputs}
    r = backprop(text, point)
    assert r.check == "agrees", (text, r.gradient)


def test_forward_mode_is_the_directional_derivative() -> None:
    r = backprop("1/(1 + e^-(w0 x0 + w1 x1 + w2))", "w0=2, x0=-1, w1=-3, x1=-2, w2=-3", mode="forward",
                 direction="w0=1, x0=0.5, w1=-1, x1=0, w2=2")
    full = backprop("1/(1 + e^-(w0 x0 + w1 x1 + w2))", "w0=2, x0=-1, w1=-3, x1=-2, w2=-3")
    along = {"w0": 1, "x0": 0.5, "w1": -1, "x1": 0, "w2": 2}
    assert close(r.derivative, sum(full.gradient[n] * d for n, d in along.items()))
    assert r.check == "agrees"
    one = backprop("(x + y) z", "x=-2, y=5, z=-4", mode="forward", wrt="z")
    assert one.derivative == 3.0 and one.direction == {"x": 0, "y": 0, "z": 1}


@pytest.mark.parametrize("text, point, wrt", [("x w + b", "x=2, w=1, b=0.5", "w"),
                                              ("sigmoid(w x + b)", "x=2, w=1, b=0.5", "w"),
                                              ("x^2 y + sin(x y)", "x=0.7, y=-1.3", "x"),
                                              ("1/(1 + e^-(w0 x0 + w1 x1 + w2))", "w0=2, x0=-1, w1=-3, x1=-2, w2=-3",
                                               "w1")])
def test_second_order_is_the_hessian_row(text: str, point: str, wrt: str) -> None:
    from symgrad import evaluate as evaluation
    from symgrad import expressions

    r = backprop(text, point, order=2, wrt=wrt)
    e = r.graph.expr
    exact = evaluation.parse_point(point, e)
    w = expressions.resolve_variable(wrt, e)
    for name, value in r.second.gradient.items():
        v = expressions.resolve_variable(name, e)
        expected = float(sp.N(sp.diff(e, w, v).subs(exact), 30))
        assert close(value, expected, 1e-10), (name, value, expected)
    assert r.second.output.name == "d" + wrt


def test_second_order_of_the_seed_names_the_unconnected_inputs() -> None:
    r = backprop("x w + b", "x=2, w=1, b=0.5", order=2, wrt="w")
    assert r.second.gradient == {"b": 0.0, "w": 0.0, "x": 1.0}
    text = to_plain(_doc(r))
    assert "dw = ∂f/∂w = x does not depend on b, w" in text and "None" in text


# output -----------------------------------------------------------------------------------------------
def test_every_format_and_the_tree() -> None:
    r = backprop("sin(x)^2 + sin(x) + x^2", "x=0.5", order=2)
    doc = _doc(r)
    plain = to_plain(doc)
    assert "└── " in plain and "(above)" in plain
    latex = to_latex(doc, standalone=True)
    assert r"\begin{tabular}" in latex and r"\begin{align*}" in latex and r"\frac{\partial f}{\partial x}" in latex
    markdown = to_markdown(doc)
    assert "| node | operation |" in markdown and "$$" in markdown
    from symgrad.cli.common import Format, _format

    rich = _format(Format.rich, doc, None, False, ascii=False)
    assert "∂f/∂x" in rich


def test_to_dot_escapes_and_carries_the_numbers() -> None:
    r = backprop("(x + y) z", "x=-2, y=5, z=-4")
    dot = graph_dot(r.graph, r)
    assert dot.startswith("digraph backprop {") and dot.rstrip().endswith("}")
    assert 'n3 -> n4 [label="∂f/∂q = z = -4"];' in dot
    assert "∂f/∂x = -4" in dot
    from symgrad.render.narrate.backprop import _dot_text

    assert _dot_text('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_json_contract(cli) -> None:
    res = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--format", "json")
    assert res.exit_code == 0, res.stdout + res.stderr
    data = res.json()
    assert data["command"] == "backprop" and data["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [n["name"] for n in data["nodes"]] == ["x", "y", "z", "q", "f"]
    q = data["nodes"][3]
    assert {"name", "expression", "value", "local", "gradient"} <= set(q)
    assert q == {**q, "expression": "x + y", "value": 3.0, "local": {"x": 1.0, "y": 1.0}, "gradient": -4.0}
    assert data["nodes"][4]["local"] == {"z": 3.0, "q": -4.0}
    assert data["check"] == "agrees"
    second = cli("backprop", "x w + "
                             "b", "--at", "x=2,w=1,b=0.5", "--order", "2", "--wrt", "w", "--format", "json").json()
    assert second["second"]["wrt"] == "w" and second["second"]["gradient"] == {"b": 0.0, "w": 0.0, "x": 1.0}
    forward = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--mode", "forward", "--format", "json").json()
    assert forward["derivative"] == -4.0 and forward["direction"] == {"x": 1.0, "y": 0.0, "z": 0.0}
    assert "tangent" in forward["nodes"][0]


def test_cli_text_and_dot(cli, tmp_path) -> None:
    res = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--format", "plain")
    assert res.exit_code == 0
    assert "∂f/∂q = z = -4" in res.stdout and "∇f(x, y, z) = (-4, -4, 3)" in res.stdout
    assert cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--dot", "-").stdout.startswith("digraph")
    target = tmp_path / "g.dot"
    res = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--dot", str(target), "--format", "plain")
    assert res.exit_code == 0 and target.read_text().startswith("digraph")


def test_plot_without_graphviz_says_what_to_install(cli, tmp_path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if not installed
    res = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--plot", str(tmp_path / "g.svg"))
    assert res.exit_code == 1
    assert "graphviz" in res.stderr and "--dot" in res.stderr
    assert not (tmp_path / "g.svg").exists()
    res = cli("backprop", "(x + y) z", "--at", "x=-2,y=5,z=-4", "--plot", str(tmp_path / "g.gif"))
    assert res.exit_code == 2 and ".svg, .png or .pdf" in res.stderr


def test_plot_with_graphviz(tmp_path) -> None:
    graphviz = pytest.importorskip("graphviz")
    from symgrad.errors import ComputeError
    from symgrad.render.narrate.backprop import render_picture

    r = backprop("(x + y) z", "x=-2, y=5, z=-4")
    try:
        path = render_picture(graph_dot(r.graph, r), str(tmp_path / "g.svg"))
    except ComputeError as exc:  # the package without Graphviz's dot program
        assert "dot program" in str(exc)
        return
    assert "<svg" in Path(path).read_text() and graphviz


@pytest.mark.parametrize("args, message", [
    (["(x + y) z", "--at", "x=1,y=2"], "no value for z"),
    (["(x + y) z"], "give a value for every input"),
    (["3 + 4", "--at", "x=1"], "constant"),
    (["x, y", "--at", "x=1,y=2"], "comma-separated list"),
    (["sum(x_i w, i, 1, n)", "--at", "w=1"], "cannot stage"),
    (["x y", "--at", "x=1,y=2", "--mode", "sideways"], "unknown mode"),
    (["x y", "--at", "x=1,y=2", "--order", "3"], "not order 3"),
    (["x y", "--at", "x=1,y=2", "--mode", "forward", "--order", "2"], "reverse over reverse"),
    (["x y", "--at", "x=1,y=2", "--mode", "forward", "--wrt", "x", "--direction", "y=1"], "not both"),
    (["x y", "--at", "x=1,y=2", "--wrt", "x"], "--mode forward or of --order 2"),
    (["x y", "--at", "x=1,y=2", "--order", "2", "--direction", "x=1"], "for --mode forward"),
    (["x y", "--at", "x=1,y=2", "--mode", "forward", "--wrt", "z"], "not an input"),
])
def test_bad_input_is_exit_2(cli, args: list[str], message: str) -> None:
    res = cli("backprop", *args)
    assert res.exit_code == 2, res.stdout + res.stderr
    assert message in res.stderr


def test_no_value_at_the_point_is_said() -> None:
    r = backprop("ln(x) + y", "x=-1, y=2")
    assert r.values[r.graph.index("q")] is None
    assert any("not real" in n for n in r.notes)


def test_graph_size_is_bounded() -> None:
    text = " + ".join(f"sin({k} x)" for k in range(1, 300))
    with pytest.raises(InputError, match="more than"):
        graph(text)


# the README's transcripts of backprop and descend --explain ---------------------------------------------
def readme_transcripts(*starts: str) -> list[tuple[str, list[str]]]:
    """``$ symgrad …`` blocks of README.md whose command starts with one of ``starts`` (fences
    read line by line: a block opens with a bare ``` line and closes with the next ```)."""
    lines = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").splitlines()
    found, block, fence = [], [], None
    for line in lines:
        if line.startswith("```"):
            if fence is None:
                fence, block = line[3:].strip(), []
            else:
                if fence == "" and block and block[0].startswith("$ symgrad ") and block[0][2:].startswith(starts):
                    found.append((block[0][2:], block[1:]))
                fence = None
            continue
        if fence is not None:
            block.append(line)
    return found


BACKPROP_README = [(c, e) for c, e in readme_transcripts("symgrad backprop", "symgrad descend")
                   if c.startswith("symgrad backprop") or "--explain" in c]


def test_readme_has_the_classic_examples() -> None:
    commands = [c for c, _ in BACKPROP_README]
    assert any('"(x + y) z"' in c for c in commands) and any("w0 x0" in c for c in commands)
    assert any("--explain" in c for c in commands) and any("--order 2" in c for c in commands)


@pytest.mark.parametrize(("command", "expected"), BACKPROP_README, ids=[c for c, _ in BACKPROP_README])
def test_readme_transcript(cli, command: str, expected: list[str]) -> None:
    import shlex

    args = shlex.split(command)[1:]
    shown = cli(*args, "--format", "plain").stdout.rstrip("\n").splitlines()
    if "…" in expected:
        cut = expected.index("…")
        head, tail = expected[:cut], expected[cut + 1:]
        assert shown[: len(head)] == head
        assert shown[len(shown) - len(tail):] == tail
    else:
        assert shown == expected
