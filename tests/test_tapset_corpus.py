"""Every .stp file of the installed SystemTap tapset directory passes `uprobe-py -p1`.

The tapsets (from Debian's systemtap-common, ~590 files) use nearly every corner
of the language: aliases with prologue/epilogue bodies, preprocessor
conditionals over kernel versions and CONFIG_*, library macros (.stpm), embedded
C, @cast chains. Parsing all of them is the parser's bar.
"""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from uprobe_py.cli import main

TAPSET_DIR = Path("/usr/share/systemtap/tapset")
FILES = sorted(TAPSET_DIR.rglob("*.stp")) if TAPSET_DIR.is_dir() else []


def test_corpus_is_installed() -> None:
    assert len(FILES) > 500, "install Debian's systemtap-common (.ci/run does)"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(TAPSET_DIR)) for p in FILES])
def test_tapset_file_parses(path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(["-p1", str(path)])
    assert rc == 0, err.getvalue()
    assert out.getvalue().startswith("# parse tree dump\n")
