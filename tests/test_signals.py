"""The program's own signals under tracing behave exactly as without it (targets/signals.c):
handlers run, SIGSEGV still kills with the same status, SIGSTOP/SIGCONT keep their meaning,
and a SIGTRAP the program raises itself reaches its handler (the tracer's traps never leak)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, compile_target, run, untraced  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

SCRIPT = 'global n probe process.function("work") {{ n++ }} probe end {{ printf("work=%d\\n", n {cmp}) }}'


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_target("signals", tmp_path_factory.mktemp("signals") / "signals", "-g", "-O1")


@pytest.mark.parametrize("args,cmp,work", [
    ("handler 7", "", "7"),          # each handler call of work() counted
    ("segv", "", "1"),
    ("stopcont 5", "> 0", "1"),
    ("trap", "", "1"),
])
def test_signals_behave_as_untraced(app: Path, tmp_path: Path, args: str, cmp: str, work: str) -> None:
    want_out, want_rc = untraced([str(app), *args.split()])
    out, err, rc = run(f"{app} {args}", SCRIPT.format(cmp=cmp), tmp_path, timeout=120)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc
    assert out.splitlines() == want_out.splitlines() + [f"work={work}"]
