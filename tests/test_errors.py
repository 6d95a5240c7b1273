"""The error corpus: each tests/errors/NAME.stp is an invalid script.

NAME.err is the exact stderr of the real stap 4.8 run as `stap -pN tests/errors/NAME.stp`
from the project root (minus stap's "Kernel function symbol table missing" warning and
Debian's "Tip:" line). Header lines at the top of the .stp:
    # pass: 1                 run with -p1 (parse) or -p2 (elaborate)
    # source: stap-oracle     where the expectation comes from
uprobe-py must exit 1, print exactly NAME.err on stderr, and never a traceback.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CASES = sorted((HERE / "errors").glob("*.stp"))
ROOT = HERE.parent


def header(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_error_case(case: Path) -> None:
    text = case.read_text(encoding="latin-1")
    pass_no = header(text, "pass")
    assert pass_no in ("1", "2"), f"{case.name}: missing '# pass: 1|2' header"
    rel = os.path.relpath(case, ROOT)
    proc = subprocess.run([sys.executable, "-m", "uprobe_py", f"-p{pass_no}", rel], cwd=ROOT,
                          capture_output=True, timeout=60)
    err = proc.stderr.decode("latin-1")
    want = case.with_suffix(".err").read_text(encoding="latin-1")
    assert "Traceback" not in err, err
    assert err == want
    assert proc.returncode == 1, f"exit {proc.returncode}; stderr:\n{err}"
