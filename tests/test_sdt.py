"""SDT markers: `process("PATH").mark("NAME")`, `.provider("P").mark("NAME")` (uprobe_py/probes/sdt.py,
uprobe_py/elf/sdt_notes.py).

targets/sdt.c (+ targets/sdt_guarded.c, whose marker has a semaphore) is built here at -O0 and
-O2, PIE and not, against Debian's <sys/sdt.h> (systemtap-sdt-dev). Resolution, -p2, -l, -L and
pass-2 errors are compared with the real stap (../shared/tools/stap-oracle); at run time the
values of $arg1..$argN must be what the program passes (it prints them), hit counts exact,
the semaphore-guarded marker fires only while traced, and the program's output is unchanged
apart from its semaphore. /usr/bin/python3's own markers (python:function__entry, ...) too.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from uprobe_py.elf.sdt_notes import ArgSpecError, parse_arg, read_markers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, run, untraced  # noqa: E402
from test_process_resolve import oracle  # noqa: E402
from test_process_resolve import run as cli  # noqa: E402

SDT_H = any(Path(d, "sys", "sdt.h").exists() for d in ("/usr/include", "/usr/include/x86_64-linux-gnu"))
need_build = pytest.mark.skipif(not SDT_H or shutil.which("gcc") is None,
                                reason="gcc and <sys/sdt.h> (systemtap-sdt-dev) are needed")
need_ptrace = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

VARIANTS = {"O0": ["-O0"], "O2": ["-O2"], "O0-nopie": ["-O0", "-no-pie"], "O2-nopie": ["-O2", "-no-pie"]}
MARKS = ["done", "eight", "five", "four", "guarded", "one", "six", "three", "two", "zero"]
NARGS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "guarded": 2,
         "done": 1}
PROVIDER = {"five": "other", "six": "other", "eight": "other"}


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not SDT_H or shutil.which("gcc") is None:
        pytest.skip("gcc and <sys/sdt.h> (systemtap-sdt-dev) are needed")
    out = tmp_path_factory.mktemp("sdt")
    got = {}
    for name, flags in VARIANTS.items():
        path = out / f"sdt-{name}"
        subprocess.run(["gcc", "-g", *flags, "-o", str(path), str(ROOT / "targets" / "sdt.c"),
                        str(ROOT / "targets" / "sdt_guarded.c")], check=True, capture_output=True)
        got[name] = path
    return got


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def stap_err(text: str) -> str:
    """The oracle's stderr without what only this machine's stap adds."""
    return "".join(ln for ln in text.splitlines(keepends=True)
                   if "Kernel function symbol table missing" not in ln and not ln.startswith("Tip: "))


# --- argument specs --------------------------------------------------------------------------
def test_arg_specs_parse() -> None:
    a = parse_arg("-4@%edi")
    assert (a.kind, a.reg, a.size, a.signed) == ("reg", "edi", 4, True)
    a = parse_arg("8@-24(%rbp)")
    assert (a.kind, a.disp, a.base, a.size, a.signed) == ("mem", -24, "rbp", 8, False)
    a = parse_arg("-4@$5")
    assert (a.kind, a.imm) == ("imm", 5)
    assert parse_arg("-4@$-1").imm == -1
    a = parse_arg("8@foo+16(%rip)")
    assert (a.kind, a.symbol, a.disp, a.base) == ("mem", "foo", 16, "rip")
    a = parse_arg("4@8(%rax,%rdx,4)")
    assert (a.disp, a.base, a.index, a.scale, a.signed) == (8, "rax", "rdx", 4, False)
    a = parse_arg("-4@(%rcx,%rsi,4)")
    assert (a.disp, a.base, a.index, a.scale) == (0, "rcx", "rsi", 4)
    assert parse_arg("-1@%r15b").reg == "r15b" and parse_arg("2@%ah").reg == "ah"
    assert parse_arg("%rax").size == 8                      # no size: a long
    with pytest.raises(ArgSpecError):
        parse_arg("4@%xmm0")


@need_build
def test_notes_read(bins: dict[str, Path]) -> None:
    from elftools.elf.elffile import ELFFile
    with open(bins["O2"], "rb") as f:
        ms = read_markers(ELFFile(f))
    assert sorted(m.name for m in ms) == MARKS
    assert {m.name: len(m.args) for m in ms} == NARGS
    assert {m.name: m.provider for m in ms} == {n: PROVIDER.get(n, "app") for n in MARKS}
    assert [m.name for m in ms if m.semaphore] == ["guarded"]


# --- resolution, as stap -------------------------------------------------------------------------
LISTINGS = ['process("APP").mark("*")', 'process("APP").provider("other").mark("*")',
            'process("APP").provider("a*").mark("t*")', 'process("APP").mark("s?x")',
            'process("APP").provider("*").mark("guarded")']


@need_build
@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
@pytest.mark.parametrize("flag", ["-l", "-L"])
@pytest.mark.parametrize("pattern", LISTINGS)
def test_listings_equal_stap(bins: dict[str, Path], cache: Path, variant: str, flag: str, pattern: str) -> None:
    point = pattern.replace("APP", str(bins[variant]))
    want = oracle(flag, point, cwd=ROOT)
    got = cli(flag, point, cache=cache)
    assert got.stdout == want.stdout and got.returncode == want.returncode, got.stderr


P2_SCRIPTS = [
    'probe process("APP").mark("t*") { printf("%s %s %d\\n", $$name, $$provider, $arg1) }',
    'probe process("APP").provider("other").mark("*") { println($$parms) }',
    'probe process("APP").mark("one") ?, process("APP").provider("app").mark("zero") { println(pp()) }',
    'probe process("APP").mark("two") { println(@defined($arg3) ? $arg3 : 7, $$vars) }',
    'probe process("APP").mark("function-entry") ? { println(1) }',
]


@need_build
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("script", P2_SCRIPTS)
def test_p2_equals_stap(bins: dict[str, Path], cache: Path, variant: str, script: str) -> None:
    s = script.replace("APP", str(bins[variant]))
    want = oracle("-p2", "-e", s, cwd=ROOT)
    got = cli("-p2", "-e", s, cache=cache)
    # stap's -p2 also lists the user_intN tapset functions its memory arguments expand to
    # (not shown by uprobe-py, as for DWARF $vars): the probes are compared
    assert probes_part(got.stdout) == probes_part(want.stdout) and got.returncode == want.returncode, got.stderr


def probes_part(out: str) -> str:
    return out[out.find("# probes\n"):] if "# probes\n" in out else out


ERRORS = [
    'probe process("APP").mark("nosuch") { }',
    'probe process("APP").provider("zz").mark("*") { }',
    'probe process("APP").mark { }',
    'probe process("APP").provider("app") { }',
    'probe process("APP").mark("one").return { }',
    'probe process("APP").mark("one") { println($nosuch) }',
    'probe process("APP").mark("two") { println($arg1->x) }',
    'probe process("APP").mark("two") { println($arg2[1]) }',
    'probe process("APP").mark("two") { println(&$arg1) }',
    'probe process("APP").mark("two") { println($$parms$) }',
    'probe process("APP").mark("two") { println($return) }',
]


@need_build
@pytest.mark.parametrize("script", ERRORS)
def test_errors_equal_stap(bins: dict[str, Path], cache: Path, script: str) -> None:
    s = script.replace("APP", str(bins["O0"]))
    want = oracle("-p2", "-e", s, cwd=ROOT)
    got = cli("-p2", "-e", s, cache=cache)
    assert got.stderr == stap_err(want.stderr) and got.returncode == want.returncode


@need_build
def test_dash_c_and_no_markers(bins: dict[str, Path], cache: Path, tmp_path: Path) -> None:
    app = bins["O2"]
    got = cli("-p2", "-c", f"{app} 1", "-e", 'probe process.mark("done") { }', cache=cache)
    want = oracle("-p2", "-c", f"{app} 1", "-e", 'probe process.mark("done") { }', cwd=ROOT)
    assert got.stdout == want.stdout, got.stderr
    plain = tmp_path / "plain"
    (tmp_path / "plain.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-o", str(plain), str(tmp_path / "plain.c")], check=True)
    got = cli("-p2", "-e", f'probe process("{plain}").mark("*") {{ }}', cache=cache)
    assert got.returncode == 1 and "semantic error: no match\n" in got.stderr


# --- run time -----------------------------------------------------------------------------------
STEP = re.compile(r"^step (\d+) (\w+) (\d+) sc=(-?\d+) uc=(\d+) sh=(-?\d+) ui=(\d+) ll=(-?\d+) counter=(\d+) "
                  r"t=(\d+) sem=(\d+)$")
VALUES = ('probe process.mark("two") { printf("two %s %d\\n", user_string($arg1), $arg2) } '
          'probe process.mark("three") { printf("three %d %d %d\\n", $arg1, $arg2, $arg3) } '
          'probe process.mark("four") { printf("four %d %d %d %d\\n", $arg1, $arg2, $arg3, $arg4) } '
          'probe process.mark("five") { printf("five %d %d %d %d %d\\n", $arg1, $arg2, $arg3, $arg4, $arg5) } '
          'probe process.mark("six") { printf("six %d %d %d %d %d %d\\n", $arg1, $arg2, $arg3, $arg4, $arg5, $arg6) } '
          'probe process.mark("eight") { printf("eight %d %d %s %d %d %d %d %d\\n", $arg1, $arg2, '
          'user_string($arg3), $arg4, $arg5, $arg6, $arg7, $arg8 == &@var("counter") ? 0 : $arg8) } '
          'probe process.mark("one") { printf("one %d\\n", $arg1) } '
          'probe process.mark("done") { printf("done %d\\n", $arg1) } '
          'probe process.mark("zero") { printf("zero %s %s %s\\n", $$provider, $$name, pp()) }')


def expected_values(app: Path, out: str, n: int) -> list[str]:
    lines = []
    for ln in out.splitlines():
        m = STEP.match(ln)
        if not m:
            continue
        i, name, big, sc, uc, sh, ui, ll, counter, t, _sem = m.groups()
        lines += [f'zero app zero process("{app}").mark("zero")', f"one {i}", f"two {name} {big}",
                  f"three {sc} {uc} {sh}", f"four {ui} {ll} {counter} {t}", "five 1 2 3 4 5",
                  "six " + " ".join(str(int(i) + k) for k in range(6)),
                  f"eight {i} -1 {name} {big} {sc} {uc} 7 0"]
    return lines + [f"done {n}"]


@need_build
@need_ptrace
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_arg_values_are_what_the_program_passes(bins: dict[str, Path], cache: Path, variant: str) -> None:
    app = bins[variant]
    n = 4
    want_out, want_rc = untraced([str(app), str(n)])
    out, err, status = run(f"{app} {n}", VALUES, cache)
    prog = [ln for ln in out.splitlines() if ln.startswith("step ")]
    probes = [ln for ln in out.splitlines() if not ln.startswith("step ")]
    assert len(prog) == n and status == want_rc, err
    assert probes == expected_values(app, "\n".join(prog), n), err
    # only the semaphore the tracer raised differs
    assert [ln.rsplit(" sem=", 1)[0] for ln in prog] == [ln.rsplit(" sem=", 1)[0] for ln in want_out.splitlines()]


@need_build
@need_ptrace
def test_hit_counts_and_name_provider(bins: dict[str, Path], cache: Path) -> None:
    app = bins["O2"]
    out, err, _ = run(f"{app} 7", 'global h probe process.mark("*") { h[$$provider, $$name]++ } '
                      'probe end { foreach ([p, m] in h+) printf("%s.%s=%d\\n", p, m, h[p, m]) }', cache)
    counts = dict(ln.split("=") for ln in out.splitlines() if "=" in ln and not ln.startswith("step "))
    want = {f"{PROVIDER.get(m, 'app')}.{m}": "1" if m == "done" else "7" for m in MARKS}
    assert counts == want, err


@need_build
@need_ptrace
@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_semaphore_guarded_marker_fires_only_while_traced(bins: dict[str, Path], cache: Path, variant: str) -> None:
    app = bins[variant]
    want_out, _ = untraced([str(app), "3"])
    assert all(ln.endswith(" sem=0") for ln in want_out.splitlines())
    out, err, _ = run(f"{app} 3", 'probe process.mark("guarded") { printf("g %d %d\\n", $arg1, $arg2) }', cache)
    assert [ln for ln in out.splitlines() if ln.startswith("g ")] == ["g 0 1", "g 1 1", "g 2 1"], err
    assert [ln[-5:] for ln in out.splitlines() if ln.startswith("step ")] == ["sem=1"] * 3
    # a probe on another marker raises no semaphore
    out, err, _ = run(f"{app} 2", 'global n probe process.mark("one") { n++ }', cache)
    assert [ln[-5:] for ln in out.splitlines() if ln.startswith("step ")] == ["sem=0"] * 2, err


@need_build
@need_ptrace
def test_semaphore_lowered_at_detach(bins: dict[str, Path], cache: Path) -> None:
    app = bins["O2"]
    out, err, status = run(f"{app} 5 ignore-term", 'global n probe process.mark("guarded") { if (++n == 2) exit() }',
                           cache)
    sems = [ln[-5:] for ln in out.splitlines() if ln.startswith("step ")]
    assert len(sems) == 5 and status == 0, err
    assert sems[0] == "sem=1" and sems[-1] == "sem=0", out        # the tracer's count removed when it left


def test_semaphore_adjust(tmp_path: Path) -> None:
    """semaphores.adjust on a real process's /proc/PID/mem (a child of ours, stopped)."""
    from uprobe_py.ptrace import semaphores
    import ctypes
    import signal
    buf = ctypes.create_string_buffer(b"\xff\xff\x05\x00", 4)
    pid = os.fork()
    if pid == 0:                                    # the child: wait to be killed
        signal.pause()
        os._exit(0)
    try:
        class Mem:
            def __init__(self) -> None:
                self.fd = os.open(f"/proc/{pid}/mem", os.O_RDWR)

            def read(self, a: int, n: int) -> bytes:
                return os.pread(self.fd, n, a)

            def write(self, a: int, d: bytes) -> None:
                os.pwrite(self.fd, d, a)
        try:
            mem = Mem()
        except OSError as e:
            pytest.skip(f"/proc/PID/mem is not writable here ({e})")
        base = ctypes.addressof(buf)
        try:
            semaphores.adjust(mem, [base, base + 2], 1)
        except OSError as e:
            pytest.skip(f"/proc/PID/mem is not writable here ({e})")
        assert mem.read(base, 4) == b"\x00\x00\x06\x00"          # 16-bit wrap, each once
        semaphores.adjust(mem, [base + 2], -1)
        semaphores.adjust(mem, [0], 1)                            # unreadable: skipped
        assert mem.read(base, 4) == b"\x00\x00\x05\x00"
        assert buf.raw == b"\xff\xff\x05\x00"                     # our own copy untouched
        os.close(mem.fd)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


# --- Python's own markers -----------------------------------------------------------------------
PY = os.path.realpath("/usr/bin/python3")


def _py_has_markers() -> bool:
    try:
        from elftools.elf.elffile import ELFFile
        with open(PY, "rb") as f:
            return bool(read_markers(ELFFile(f)))
    except (OSError, Exception):
        return False


need_py = pytest.mark.skipif(not _py_has_markers(), reason=f"{PY} has no SDT markers")


@need_py
@pytest.mark.parametrize("args", [["-l", 'process("/usr/bin/python3").mark("*")'],
                                  ["-L", 'process("/usr/bin/python3").provider("python").mark("function-*")'],
                                  ["-p2", "-e", 'probe process("/usr/bin/python3").mark("function__entry"), '
                                   'process("/usr/bin/python3").mark("line") { println($$parms) }']])
def test_python_markers_equal_stap(cache: Path, args: list[str]) -> None:
    want = oracle(*args, cwd=ROOT)
    got = cli(*args, cache=cache)
    assert got.stdout == want.stdout and got.returncode == want.returncode, got.stderr


@need_py
@need_ptrace
def test_python_function_entry_at_run_time(cache: Path, tmp_path: Path) -> None:
    prog = tmp_path / "f.py"
    # CPython 3.11 reaches its function__entry marker only while a trace function is set
    prog.write_text("import sys\nsys.settrace(lambda *a: None)\n"
                    "def hello():\n    return 1\nfor _ in range(3):\n    hello()\n")
    out, err, status = run(f"{PY} -S {prog}", 'probe process.mark("function__entry") '
                           '{ if (user_string($arg2) == "hello") printf("%s:%d\\n", user_string($arg1), $arg3) }',
                           cache)
    assert status == 0 and out == f"{prog}:3\n" * 3, err
