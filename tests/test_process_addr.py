"""`process("PATH").function(NUMBER)` and `.statement(NUMBER)` (uprobe_py/elf/query_addr.py),
cross-checked with the real stap (stap-oracle -p2) on every function of the test targets:
each function's start, an address inside it and its start as a statement, in one script
of optional probes per binary; the error for an address inside a statement, byte for byte;
and hits counted at run time on a probe placed by number."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from uprobe_py.elf.image import ElfImage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_process_resolve import bins, cache_home, oracle, probe_lines, run  # noqa: E402,F401

CASES = [("simple", "O0"), ("simple", "O2"), ("simple", "nopie"), ("simple", "nodebug"), ("cpp", "O0"),
         ("cpp", "O2")]


def _functions(exe: Path) -> list[tuple[int, int]]:
    img = ElfImage(str(exe))
    return sorted({(s.addr, s.size) for s in img.symbols if s.defined and s.type == 2 and s.size > 2})


def _address_of(exe: Path, name: str) -> int:
    return next(s.addr for s in ElfImage(str(exe)).symbols if s.name == name)


@pytest.mark.parametrize("target,variant", CASES, ids=[f"{t}-{v}" for t, v in CASES])
def test_numeric_points_resolve_as_stap(bins: dict, cache_home: Path, target: str, variant: str) -> None:
    exe = bins[target, variant]
    lines = []
    for addr, size in _functions(exe):
        for point in (f"function({addr:#x})", f"function({addr + size // 2:#x})", f"statement({addr:#x})",
                      f"function({addr:#x}).call"):
            lines.append(f'probe process("{exe}").{point}? {{ print(1) }}')
    script = "\n".join(lines)
    ref = oracle("-p2", "-e", script, cwd=exe.parent)
    mine = run("-p2", "-e", script, cache=cache_home)
    assert probe_lines(mine.stdout) == probe_lines(ref.stdout)
    assert mine.returncode == ref.returncode


def test_address_inside_a_statement_is_stap_s_error(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "O0"]
    addr = _address_of(exe, "add") + 1
    script = f'probe process("{exe}").statement({addr:#x}) {{ print(1) }}'
    ref = oracle("-p2", "-e", script, cwd=exe.parent)
    mine = run("-p2", "-e", script, cache=cache_home)
    theirs = "".join(ln for ln in ref.stderr.splitlines(keepends=True)
                     if not ln.startswith(("WARNING: Kernel function symbol table missing", "Tip:")))
    assert "does not match the beginning of a statement" in mine.stderr
    assert mine.stderr == theirs
    assert mine.returncode == ref.returncode == 1


def test_probe_by_address_hits_at_run_time(tmp_path: Path) -> None:
    from ptrace_support import REASON as PTRACE_REASON, build, run as run_traced, untraced
    if PTRACE_REASON:
        pytest.skip(PTRACE_REASON)
    app = build.build("loop", "O2", tmp_path)
    tick = _address_of(app, "tick")
    script = (f'global n, m probe process("{app}").function({tick:#x}) {{ n++ }} '
              f'probe process("{app}").statement({tick:#x}) {{ m++ }} '
              'probe end { printf("%d %d\\n", n, m) }')
    want_out, want_rc = untraced([str(app), "300"])
    out, err, rc = run_traced(f"{app} 300", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc
    assert out.splitlines() == [want_out.strip(), "300 300"]
