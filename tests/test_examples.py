"""Every script in examples/ runs and prints exactly examples/expected/NAME.out.

A few examples take arguments; they are listed here. The examples are documentation:
they must keep working (the pyelftools lesson).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.stp"))
ARGS = {"wordcount": ["the cat and the dog and the bird"]}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example(script: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "uprobe_py", str(script.relative_to(ROOT)),
                        *ARGS.get(script.stem, [])], cwd=ROOT, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    want = (ROOT / "examples" / "expected" / f"{script.stem}.out").read_bytes()
    assert r.stdout == want
