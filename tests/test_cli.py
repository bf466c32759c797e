"""The diff and grad commands end to end: text and JSON output, options, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sympy as sp
from conftest import x, y

from symgrad.parsing import parse


def test_grad_main_job(cli) -> None:
    res = cli("grad", "y**2 - x**2", "--format", "plain")
    assert res.exit_code == 0
    assert "∇f(x, y) = (-2·x, 2·y)" in res.stdout
    assert res.stdout.startswith("input: y**2 - x**2  →")


def test_diff_product_and_chain(cli) -> None:
    data = cli("diff", "x cos(πx)", "--format", "json").json()
    assert parse(data["result"]) == sp.cos(sp.pi * x) - sp.pi * x * sp.sin(sp.pi * x)


def test_diff_json_contract(cli) -> None:
    data = cli("diff", "x^3 y", "--wrt", "y", "--format", "json").json()
    assert data["command"] == "diff"
    assert {"input", "expression", "variables", "wrt", "result", "latex"} <= set(data)
    assert data["variables"] == ["x", "y"]
    assert data["wrt"] == "y"
    assert data["result"] == "x**3"
    assert "value" not in data


def test_grad_json_contract_with_value(cli) -> None:
    data = cli("grad", "y**2 - x**2", "--at", "x=1,y=2", "--format", "json").json()
    assert data["gradient"] == ["-2*x", "2*y"]
    assert data["variables"] == ["x", "y"]
    assert data["value"] == [-2.0, 4.0]
    assert [parse(g) for g in data["gradient"]] == [-2 * x, 2 * y]


def test_order_and_value(cli) -> None:
    data = cli("diff", "sin x", "--order", "3", "--at", "x=0", "--format", "json").json()
    assert data["result"] == "-cos(x)"
    assert data["value"] == -1.0


@pytest.mark.parametrize("spelling", ["θ=0.5", "theta=0.5"])
def test_at_accepts_any_spelling(cli, spelling: str) -> None:
    data = cli("diff", "θ^2", "--at", spelling, "--format", "json").json()
    assert data["value"] == 1.0
    assert data["wrt"] == "theta"


def test_wrt_accepts_any_spelling(cli) -> None:
    data = cli("grad", "θ₁^2 + theta2^2", "--wrt", "theta_1,θ2", "--format", "json").json()
    assert data["variables"] == ["theta1", "theta2"]
    assert data["gradient"] == ["2*theta1", "2*theta2"]


def test_natural_variable_order(cli) -> None:
    data = cli("grad", "theta10 + theta2 + theta1", "--format", "json").json()
    assert data["variables"] == ["theta1", "theta2", "theta10"]


@pytest.mark.parametrize("expr", ["-x^2", "-log(p)", "-f(x)", "-sin x"])
def test_leading_minus_is_an_expression(cli, expr: str) -> None:
    res = cli("diff", expr, "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["input"] == expr


def test_stdin(cli) -> None:
    res = cli("diff", "-", "--format", "json", input="ln|x|\n")
    assert res.json()["input"] == "ln|x|"
    assert sp.simplify(parse(res.json()["result"]) - 1 / x) == 0


def test_stdin_invalid_utf8(cli) -> None:
    res = cli("diff", "-", input=b"x\xff\xfe")
    assert res.exit_code == 2
    assert "UTF-8" in res.stderr


def test_undefined_value_says_so(cli) -> None:
    data = cli("diff", "ln(x)", "--at", "x=0", "--format", "json").json()
    assert data["value"] is None
    assert "undefined" in data["note"]
    data = cli("diff", "sqrt(x)", "--at", "x=-1", "--format", "json").json()
    assert data["value"] is None and "not real" in data["note"]


def test_bad_input_exit_2_with_caret(cli) -> None:
    res = cli("diff", "sinus(x)")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "did you mean sin?" in res.stderr
    assert "^" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_input_json(cli) -> None:
    res = cli("diff", "x +* y", "--format", "json")
    assert res.exit_code == 2
    err = res.json()["error"]
    assert err["position"] == 3
    assert "unexpected" in err["message"]


def test_missing_value_in_point(cli) -> None:
    res = cli("grad", "x y", "--at", "x=1")
    assert res.exit_code == 2
    assert "no value for y" in res.stderr


@pytest.mark.parametrize("fmt", ["plain", "latex", "markdown", "rich", "json"])
def test_every_format(cli, fmt: str) -> None:
    res = cli("grad", "y**2 - x**2", "--format", fmt)
    assert res.exit_code == 0
    assert res.stdout.strip()
    if fmt == "latex":
        assert r"\nabla f" in res.stdout
    if fmt == "markdown":
        assert "$$" in res.stdout
    if fmt == "plain":
        assert "\x1b[" not in res.stdout


def test_version_and_help(cli) -> None:
    from symgrad import __version__

    assert cli("--version").stdout.strip() == f"symgrad {__version__}"
    for command in ("diff", "grad"):
        out = cli(command, "--help").stdout
        assert "Examples" in out and "--format" in out


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, env=full_env,
                          timeout=120)


def test_python_m_symgrad_piped_is_plain() -> None:
    proc = _run("grad", "y**2 - x**2")
    assert proc.returncode == 0
    assert "(-2·x, 2·y)" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_no_traceback_without_debug_and_with_debug() -> None:
    proc = _run("diff", "x^^2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_mixed_partial_each_stage_derived(cli) -> None:
    data = cli("diff", "x^2 y^3 + sin(x y)", "--wrt", "x,y", "--format", "json").json()
    f = x**2 * y**3 + sp.sin(x * y)
    assert data["wrt"] == ["x", "y"] and data["order"] == 2
    assert sp.simplify(parse(data["result"]) - sp.diff(f, y, x)) == 0
    assert [s["wrt"] for s in data["stages"]] == ["y", "x"]  # ∂²f/∂x∂y applies ∂/∂y first
    assert sp.simplify(parse(data["stages"][0]["result"]) - sp.diff(f, y)) == 0
    assert all("steps" in s for s in data["stages"])


def test_mixed_partial_text_and_value(cli) -> None:
    res = cli("diff", "x^2 y^3", "--wrt", "x,y", "--at", "x=1,y=2", "--format", "plain")
    assert res.exit_code == 0
    assert "Stage 1 of 2: ∂/∂y" in res.stdout and "treat x as a constant" in res.stdout
    assert "∂²f/∂x∂y = 6·x·y²" in res.stdout
    assert "= 24" in res.stdout


def test_mixed_partial_rejects_order(cli) -> None:
    res = cli("diff", "x y", "--wrt", "x,y", "--order", "2")
    assert res.exit_code == 2 and "--wrt x,x,y" in res.stderr


# a variable that does not occur is noted, never a silent 0 (issue 12) --------------------------------
@pytest.mark.parametrize("args,note", [
    (["diff", "x^2", "--wrt", "X"], "X does not occur in the expression: the derivative by X is 0 (did you mean x?)"),
    (["diff", "x^2 y", "--wrt", "t"],
     "t does not occur in the expression: the derivative by t is 0 (its variables are x, y)"),
    (["diff", "x^2 y", "--wrt", "x,t"], "t does not occur in the expression"),
    (["grad", "x^2 y", "--wrt", "x,t"], "t does not occur in the expression: the derivative by t is 0"),
    (["grad", "theta^2 + y", "--wrt", "thetta,y"], "(did you mean theta?)"),
    (["hessian", "x^2 y", "--wrt", "x,Y"],
     "Y does not occur in the expression: its partial derivatives are 0 (did you mean y?)"),
    (["jacobian", "x^2 y, y", "--wrt", "x,t"], "t does not occur in the expression: its column of the Jacobian is 0"),
    (["check", "x^2", "--wrt", "X", "--answer", "0"], "(did you mean x?)"),
])
def test_a_variable_that_does_not_occur_is_noted(cli, args: list[str], note: str) -> None:
    res = cli(*args, "--format", "plain")
    assert res.exit_code == 0
    assert any(line.startswith("  note: ") and note in line for line in res.stdout.splitlines()), res.stdout
    if args[0] != "check":
        assert any(note in n for n in cli(*args, "--format", "json").json()["notes"])


def test_no_note_when_every_variable_occurs(cli) -> None:
    for args in (["diff", "x^2 y", "--wrt", "y"], ["grad", "x^2 y"], ["hessian", "x^2 y", "--wrt", "x,y"]):
        assert cli(*args, "--format", "json").json()["notes"] == []


def test_at_names_a_variable_that_does_not_occur(cli) -> None:
    data = cli("diff", "x^2", "--at", "x=1,y=2", "--format", "json").json()
    assert data["value"] == 2.0
    assert data["notes"] == ["y does not occur in the expression: its value at the point is not used (its variable is "
                             "x)"]
    assert "y does not occur" in cli("grad", "x^2 z", "--at", "x=1,z=1,y=0", "--format", "plain").stdout
    assert "y does not occur" in cli("diff", "x^2 z", "--wrt", "x,z", "--at", "x=1,z=1,y=0", "--format", "plain").stdout
    res = cli("diff", "x^2", "--at", "X=1", "--format", "json")
    assert res.exit_code == 2
    assert res.json()["error"]["message"] == "the point gives X, which does not occur in the expression"
    assert "did you mean x?" in res.json()["error"]["suggestion"]


@pytest.mark.parametrize("args", [["diff", "(-1)^x"], ["grad", "(-1)^x y"], ["hessian", "(-1)^x y"],
                                  ["jacobian", "(-1)^x, y"], ["critical", "(-1)^x + y^2"],
                                  ["descend", "(-1)^x", "--steps", "2"], ["export", "(-1)^x", "--backend", "math"],
                                  ["check", "x^2", "--answer", "(-1)^x"], ["diff", "ln(-x^2 - 1)"]])
def test_every_command_refuses_a_function_real_on_no_interval(cli, args: list[str]) -> None:
    res = cli(*args, "--format", "json")
    assert res.exit_code == 1
    assert " is not a real" in res.json()["error"]["message"] or "is not real" in res.json()["error"]["message"]
    assert res.json()["error"]["kind"] == "ComputeError"


def test_zero_to_a_varying_power_in_hessian_and_jacobian(cli) -> None:
    h = cli("hessian", "0^x y + x y", "--format", "json").json()
    assert h["variables"] == ["x", "y"] and h["hessian"] == [["0", "1"], ["1", "0"]]
    assert "taken as 0" in h["notes"][0]
    j = cli("jacobian", "x, 0^x y", "--format", "json").json()
    assert j["variables"] == ["x", "y"] and j["jacobian"] == [["1", "0"], ["0", "0"]]
    assert j["expression"] == ["x", "0**x*y"] and "taken as 0" in j["notes"][0]
