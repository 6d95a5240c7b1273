"""Probes in shared libraries: `process("LIB").function(...)` and
`process("PATH").library("LIB").function(...)` (stapprobes(3stap)), resolved as stap does
(checked against stap-oracle -p2 when it is available) and armed at run time once the
dynamic linker has mapped the program's libraries (an int3 at the program's entry point).
targets/libcalls.c calls getppid() a known number of times."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from uprobe_py.elf.needed import needed_libraries

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, compile_target, run, untraced  # noqa: E402

ORACLE = Path("/work/shared/tools/stap-oracle")
pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_target("libcalls", tmp_path_factory.mktemp("libcalls") / "libcalls", "-g", "-O1")


@pytest.fixture(scope="module")
def libc(app: Path) -> str:
    libs = [p for p in needed_libraries(str(app)) if os.path.basename(p).startswith("libc.so")]
    assert len(libs) == 1
    return libs[0]


def p2(script: str, cache: Path) -> tuple[str, int]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "uprobe_py", "-p2", "-e", script], capture_output=True,
                       text=True, env=env, timeout=300)
    return r.stdout, r.returncode


def test_needed_libraries_are_what_ldd_lists(app: Path) -> None:
    libs = needed_libraries(str(app))
    assert any(os.path.basename(p).startswith("libc.so") for p in libs)
    assert any(os.path.basename(p).startswith("ld-linux") for p in libs)
    assert all(os.path.isabs(p) and os.path.realpath(p) == p for p in libs)


def test_library_listing_names_the_library_and_the_process(app: Path, libc: str, tmp_path: Path) -> None:
    out, rc = p2(f'probe process("{app}").library("libc.so.6").function("getppid") {{ println(1) }}', tmp_path)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "# probes"
    assert lines[1].startswith(f'process("{libc}").function("__getppid@')
    assert f'<- process("{app}").library("{libc}").function("__getppid@' in lines[1]


@pytest.mark.skipif(not ORACLE.exists(), reason="stap-oracle is not available")
@pytest.mark.parametrize("lib", ["libc.so.6", "*"])
def test_library_probes_resolve_as_stap(app: Path, tmp_path: Path, lib: str) -> None:
    script = f'probe process("{app}").library("{lib}").function("malloc") {{ println(1) }}'
    ours, rc = p2(script, tmp_path)
    assert rc == 0
    r = subprocess.run([str(ORACLE), "-p2", "-e", script], capture_output=True, text=True, timeout=600)
    theirs = [ln for ln in r.stdout.splitlines() if ln.startswith("process(")]
    assert sorted(ln for ln in ours.splitlines() if ln.startswith("process(")) == sorted(theirs)


def test_library_function_hits_counted_exactly(app: Path, libc: str, tmp_path: Path) -> None:
    n = 250
    want_out, want_rc = untraced([str(app), str(n)])
    script = (f'global a, b probe process("{app}").library("libc.so.6").function("getppid") {{ a++ }} '
              f'probe process("{libc}").function("getppid").return {{ b++ }} '
              'probe end { printf("%d %d\\n", a, b) }')
    out, err, rc = run(f"{app} {n}", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc
    assert out.splitlines() == [want_out.strip(), f"{n} {n}"]


def test_library_not_loaded_by_the_program_is_never_armed(app: Path, tmp_path: Path) -> None:
    libz = [p for p in ("/usr/lib/x86_64-linux-gnu/libz.so.1",) if os.path.exists(p)]
    if not libz:
        pytest.skip("no libz.so.1 here")
    script = (f'global n probe process("{os.path.realpath(libz[0])}").function("*") {{ n++ }} '
              'probe end { printf("%d\\n", n) }')
    out, err, rc = run(f"{app} 3", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert out.splitlines()[-1] == "0"


def test_library_loaded_later_by_dlopen_is_armed_then_and_again(tmp_path: Path) -> None:
    """targets/dlopener.c dlopen()s a library after start-up: its probes arm at the dynamic
    linker's r_brk; after a dlclose they wait for the next dlopen (twice: two rounds)."""
    lib = tmp_path / "libplug.so"
    (tmp_path / "plug.c").write_text("int plug_fn(int x) { return x * 2; }\n")
    subprocess.run(["gcc", "-g", "-O1", "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "plug.c")],
                   check=True, capture_output=True)
    app = tmp_path / "dlopener"
    subprocess.run(["gcc", "-g", "-O1", "-o", str(app), str(ROOT / "targets" / "dlopener.c")],
                   check=True, capture_output=True)
    script = (f'global n probe process("{lib}").function("plug_fn") {{ n++ }} '
              'probe end { printf("n=%d\\n", n) }')
    for rounds in (1, 2):
        out, err, rc = run(f"{app} {lib} 40 {rounds}", script, tmp_path)
        assert err == "[uprobe-py exit 0]"
        assert rc == 0
        assert out.splitlines() == [f"sum={rounds * 40 * 39}", f"n={rounds * 40}"]
