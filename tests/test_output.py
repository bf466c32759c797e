"""Output that never fails silently, as real processes under real limits: a file-size limit, a
full device, closed descriptors, a broken pipe, ASCII and Latin-1 terminals, and Click's usage
errors in symgrad's own shape (JSON with --format json)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

TIMEOUT = 300  # only a hang reaches it


def run(*args: str, env: dict[str, str] | None = None, stdin: object = subprocess.DEVNULL,
        stdout: object = subprocess.PIPE,
        preexec: object = None, shell: str | None = None) -> subprocess.CompletedProcess:
    """``python -m symgrad ARGS`` (or a shell line, ``{symgrad}`` standing for the command)."""
    full_env = {**os.environ, **(env or {})}
    if shell is not None:
        command = f"{sys.executable} -m symgrad"
        return subprocess.run(["bash", "-c", shell.format(symgrad=command)], check=False, stdout=stdout,
                              stderr=subprocess.PIPE,
                              stdin=stdin, env=full_env, timeout=TIMEOUT)
    return subprocess.run([sys.executable, "-m", "symgrad", *args], check=False, stdout=stdout, stderr=subprocess.PIPE,
                          stdin=stdin,
                          env=full_env, timeout=TIMEOUT, preexec_fn=preexec)  # type: ignore[arg-type]


def _file_size_limit(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _one_clear_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text and "internal error" not in text and "this is a bug" not in text, text
    assert text.startswith("error: "), text
    return text


# a failed or short write ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "plain"])
def test_file_size_limit_is_an_error_not_half_a_file(tmp_path, fmt: str) -> None:
    target = tmp_path / "half.out"
    with open(target, "wb") as out:
        proc = run("diff", "x cos(πx)", "--format", fmt, stdout=out, preexec=_file_size_limit(300))
    assert proc.returncode == 1
    assert "file-size limit" in _one_clear_line(proc.stderr)
    assert target.stat().st_size <= 300
    assert b"{" not in proc.stderr  # the error is not appended to the half-written JSON


def test_output_that_fits_the_limit_is_written_in_full(tmp_path) -> None:
    target = tmp_path / "whole.json"
    with open(target, "wb") as out:
        proc = run("diff", "x^2", "--format", "json", "--no-steps", stdout=out, preexec=_file_size_limit(100_000))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(target.read_text())["result"] == "2*x"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("fmt", ["json", "plain"])
def test_full_device(fmt: str) -> None:
    with open("/dev/full", "wb") as out:
        proc = run("diff", "x^2", "--format", fmt, stdout=out)
    assert proc.returncode == 1
    assert "no space left" in _one_clear_line(proc.stderr)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_bad_input_in_json_mode_with_a_full_device_still_says_why() -> None:
    """The JSON error cannot be written: both messages go to standard error, and the exit code is
    still that of the bad input."""
    with open("/dev/full", "wb") as out:
        proc = run("diff", "x +", "--format", "json", stdout=out)
    assert proc.returncode == 2
    text = _one_clear_line(proc.stderr)
    assert "expression ends" in text and "no space left" in text


# closed descriptors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["shell", "preexec"])
def test_closed_stdout(how: str) -> None:
    if how == "shell":
        proc = run(shell='{symgrad} diff "x^2" >&-')
    else:
        proc = run("diff", "x^2", preexec=lambda: os.close(1))
    assert proc.returncode == 1
    assert "standard output is closed" in _one_clear_line(proc.stderr)


def test_closed_stdout_with_help_is_an_error_too() -> None:
    proc = run(shell="{symgrad} diff --help >&-")
    assert proc.returncode == 1
    assert "standard output is closed" in _one_clear_line(proc.stderr)


@pytest.mark.parametrize("how", ["shell", "preexec"])
def test_closed_stdin(how: str) -> None:
    if how == "shell":
        proc = run(shell="{symgrad} diff - <&-")
    else:
        proc = run("diff", "-", preexec=lambda: os.close(0))
    assert proc.returncode == 1
    assert "standard input is closed" in _one_clear_line(proc.stderr)


def test_broken_pipe_is_quiet() -> None:
    """``symgrad table | head -1``: the reader goes away; no traceback, exit 0 or 141."""
    proc = subprocess.Popen([sys.executable, "-m", "symgrad", "softmax", "40"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before anything is read: the first write meets a broken pipe
    err = proc.stderr.read()
    proc.wait(timeout=TIMEOUT)
    assert proc.returncode in (0, 141)
    assert err == b""


def test_broken_pipe_through_head() -> None:
    proc = run(shell="{symgrad} softmax 60 | head -c 10 > /dev/null; exit ${{PIPESTATUS[0]}}")
    assert proc.returncode in (0, 141)
    assert proc.stderr == b""


# encodings ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("fmt", ["plain", "rich", "markdown", "latex"])
def test_ascii_terminal_gets_ascii_notation(encoding: str, fmt: str) -> None:
    proc = run("diff", "sigmoid(x) + θ^2 x + sqrt(x)", "--format", fmt, env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("ascii")  # every byte ASCII
    assert "?" not in text.replace("?}", "")  # not replacement characters
    assert "<U+" not in text
    if fmt in ("plain", "rich"):
        assert "sigma(x)" in text and "theta" in text and "d/dx" in text
        assert "->" in text  # the interpretation arrow
    if fmt == "plain":
        assert "theta^2" in text and "sqrt(x)" in text


def test_ascii_plain_is_the_same_document() -> None:
    """Line for line the Unicode output, spelled in ASCII: nothing dropped."""
    unicode = run("grad", "θ₁^2 sin(πx) + sigmoid(x)", "--format", "plain", env={"PYTHONIOENCODING": "utf-8"})
    ascii = run("grad", "θ₁^2 sin(πx) + sigmoid(x)", "--format", "plain", env={"PYTHONIOENCODING": "ascii"})
    assert unicode.returncode == ascii.returncode == 0
    lines_u, lines_a = unicode.stdout.decode().splitlines(), ascii.stdout.decode("ascii").splitlines()
    assert len(lines_u) == len(lines_a)
    assert any("theta1^2" in line for line in lines_a)
    assert any("pi*x" in line for line in lines_a)


def test_ascii_matrix_columns_stay_aligned() -> None:
    proc = run("hessian", "θ^2 y", "--at", "θ=1,y=2", "--no-steps", "--format", "plain",
               env={"PYTHONIOENCODING": "ascii"})
    lines = [line for line in proc.stdout.decode("ascii").splitlines() if line.strip().startswith(("H", "["))]
    first = next(k for k, line in enumerate(lines) if line.startswith("H(theta, y) = "))
    assert lines[first].index("[") == lines[first + 1].index("[")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_ascii_json_is_valid_and_the_same_data(encoding: str) -> None:
    proc = run("diff", "x cos(πx)", "--format", "json", env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 0
    data = json.loads(proc.stdout.decode("ascii"))
    assert data["input"] == "x cos(πx)"  # escaped, not lost


def test_ascii_error_message_keeps_its_caret() -> None:
    proc = run("diff", "x cos(πx) +", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 2
    lines = proc.stderr.decode("ascii").splitlines()
    assert lines[1] == "  x cos(pi x) +"
    assert lines[2].index("^") == len(lines[1])


# usage errors follow the contract ---------------------------------------------------------------------------
def test_option_error_in_json_mode_is_json(cli) -> None:
    res = cli("diff", "x^2", "--order", "0", "--format", "json")
    assert res.exit_code == 2
    error = res.json()["error"]
    assert error["kind"] == "UsageError" and "--order" in error["message"] and error["position"] is None
    assert "Usage:" not in res.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["diff", "x^2", "--order", "0"], "invalid value for --order"),
    (["diff"], "missing argument"),
    (["diff", "x^2", "--frmat", "json"], "no such option: --frmat (did you mean --format?)"),
    (["grad", "x^2", "--timeout", "abc"], "invalid value for --timeout"),
    (["diff", "x^2", "--at"], "--at requires an argument"),
    (["dif", "x^2"], "no such command 'dif' (did you mean diff?)"),
    (["diff", "x^2", "--format", "jsn"], "invalid value for --format"),
])
def test_usage_errors_are_one_line_and_a_hint(cli, args: list[str], expected: str) -> None:
    res = cli(*args)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and expected in lines[0], res.stderr
    assert len(lines) == 2 and lines[1].startswith("hint: see symgrad")
    assert res.stdout == ""
    json_res = cli(args[0], "--format", "json", *args[1:]) if "--format" not in args else None
    if json_res is not None:
        assert json_res.exit_code == 2
        assert expected in json_res.json()["error"]["message"]


def test_usage_error_as_a_process() -> None:
    proc = run("diff", "x^2", "--order", "0", "--format", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["kind"] == "UsageError"
    assert proc.stderr == b""


def test_help_and_version_still_work(cli) -> None:
    assert cli("--version").exit_code == 0
    res = cli("diff", "--help")
    assert res.exit_code == 0 and "Usage:" in res.stdout
    assert cli("diff", "-x^2", "--no-steps", "--format", "plain").exit_code == 0  # a leading minus is no option
