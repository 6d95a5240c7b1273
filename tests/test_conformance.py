"""The conformance corpus: each tests/conformance/NAME.stp runs through the CLI.

A case is NAME.stp plus NAME.out (exact stdout) and, optionally, NAME.err
(exact stderr). Header lines at the top of the .stp set the run:
    # args: -G x=5 -D MAXACTION=100     extra command-line options (before the script)
    # script-args: foo 42               positional arguments after the script
    # exit: 1                           expected exit status (default 0)
    # source: man 3stap function::substr   where the expectation comes from
The script file's own name appears in messages as tests/conformance/NAME.stp.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_support import corpus_params, header

HERE = Path(__file__).parent
CASES = sorted((HERE / "conformance").glob("*.stp"))
ROOT = HERE.parent



# Where uprobe-py still differs from stap, and why (the case keeps stap's expectation).
KNOWN_DIFFERENCES = {
    # stap types an untyped tapset-function parameter from the call and reports the clash
    # inside its own tapset file; uprobe-py's built-ins have declared types.
    "bi_sem_untyped_param": "error reported at the call site, not in stap's tapset source",
}


@pytest.mark.parametrize("case", corpus_params(CASES, KNOWN_DIFFERENCES), ids=[c.stem for c in CASES])
def test_case(case: Path) -> None:
    text = case.read_text(encoding="latin-1")
    args = shlex.split(header(text, "args") or "")
    sargs = shlex.split(header(text, "script-args") or "")
    want_exit = int(header(text, "exit") or "0")
    rel = os.path.relpath(case, ROOT)
    proc = subprocess.run([sys.executable, "-m", "uprobe_py", *args, rel, *sargs], cwd=ROOT,
                          capture_output=True, timeout=60)
    out = proc.stdout.decode("latin-1")
    err = proc.stderr.decode("latin-1")
    want_out = case.with_suffix(".out").read_text(encoding="latin-1")
    assert out == want_out, f"stdout differs; stderr was:\n{err}"
    errfile = case.with_suffix(".err")
    if errfile.exists():
        assert err == errfile.read_text(encoding="latin-1")
    assert proc.returncode == want_exit, f"exit {proc.returncode}; stderr:\n{err}"
    assert "Traceback" not in err
