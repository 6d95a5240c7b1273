"""Guru-mode writes to target variables (`-g`, uprobe_py/target_writes.py).

targets/guru.c prints what its functions compute; the probes rewrite a parameter at
function entry (a stack slot at -O0, a register at -O2), a struct field and an array
element through a pointer, a bitfield, a global (@var) and globals' fields of every
size, and the tests assert the program's changed output: values are truncated to the
object's size as stap's store_uderef does (300 in an `unsigned char` is 44), bitfields
keep their neighbours, a register gets the whole value. The pass-2 errors are checked
against the real stap (stap-oracle) where it has an answer.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_process_resolve import oracle  # noqa: E402
from test_process_resolve import run as run_cli  # noqa: E402
from ptrace_support import REASON, build, run, untraced  # noqa: E402

UNTRACED = ("scale=42\nmove=8 x=8\nsum=100\nnarrow=252\nflags a=1 b=-2 c=1\nkonst=22\n"
            "bump=11 counter=11\npt x=1 ch=a uc=200 big=1099511627776\n")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not build.available():
        pytest.skip("gcc/g++/strip are not installed")
    return tmp_path_factory.mktemp("guru-targets")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def app(outdir: Path, variant: str) -> Path:
    return build.build("guru", variant, outdir)


WRITES = ('probe process.function("scale") { $v = 11 } '
          'probe process.function("move") { $p->x = 100; $dx = -100 } '
          'probe process.function("sum_arr") { $a[1] = 7 } '
          'probe process.function("narrow") { $c = 300; $h = -1; $w = 7 << 32 } '
          'probe process.function("show_flags") { $f->b = 100; $f->a = 9 } '
          'probe process.function("bump") { @var("g_counter") = 41; @var("g_pt")->x = 77; '
          '@var("g_pt")->ch = 122; @var("g_pt")->uc = 511; @var("g_pt")->big = -5 }')
WRITTEN = ("scale=77\nmove=0 x=0\nsum=87\nnarrow=50\nflags a=1 b=4 c=1\nkonst=22\n"
           "bump=42 counter=42\npt x=77 ch=z uc=255 big=-5\n")


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2", "nopie", "O2-nopie"])
def test_writes_change_what_the_target_computes(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    assert untraced([str(exe)]) == (UNTRACED, 0)
    out, err, status = run(str(exe), WRITES, cache, "-g")
    assert out == WRITTEN, err
    assert status == 0
    assert err.endswith("[uprobe-py exit 0]") and "ERROR" not in err


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_assignment_value_and_read_back(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    script = ('probe process.function("scale") { x = $v = 0x100000005; printf("x=%d v=%d factor=%d\\n", x, $v, '
              '$factor) } probe process.function("move") { $p->s = 70000; printf("s=%d y=%d\\n", $p->s, $p->y) }')
    out, err, status = run(str(exe), script, cache, "-g")
    # the assignment's value is the script's number; the int reads back truncated
    assert out == UNTRACED.replace("scale=42", "scale=35") + "x=4294967301 v=5 factor=7\ns=4464 y=6\n", err
    assert status == 0


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
def test_write_fault_is_a_run_time_error(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    out, err, status = run(str(exe), 'probe process.function("scale") { @cast(0, "struct point")->y = 1 }',
                           cache, "-g")
    assert err.startswith("ERROR: write fault [man error::fault] at 0x4 near operator '@cast' at <input>:1:35\n"), err
    assert err.endswith("[uprobe-py exit 1]")


def test_without_guru_mode_it_is_refused(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    r = run_cli("-p2", "-e", f'probe process("{exe}").function("scale") {{ $v = 1 }}', cache=cache)
    assert r.returncode == 1
    assert r.stderr.startswith("semantic error: write to target variable not permitted; need stap -g: "
                               "identifier '$v' at <input>:1:")


ERRORS = [("O2", 'function("sum_arr") { $i = 5 }'),          # DW_OP_stack_value: not an lvalue
          ("O0", 'function("move") { $p = 5; $p->x = "a" }'),
          ("O0", 'function("move") { $p->f = 5 }'),
          ("O0", 'function("move") { $$parms = "x" }'),
          ("O0", 'function("move") { $p$ = "x" }'),
          ("O0", 'function("move") { &$p->x = 1 }'),
          ("O0", 'function("move") { $p->arr = 1 }'),
          ("O0", 'function("move") { $nosuch = 1 }'),
          ("O0", 'function("move") { $p->nosuch = 1 }'),
          ("O0", 'function("*o*") { $dx += 1 }'),
          ("O0", 'function("show_flags") { $f->c = 1; println($f->c) }')]


@pytest.mark.parametrize("variant,probe", ERRORS)
def test_pass2_equals_stap(outdir: Path, cache: Path, variant: str, probe: str) -> None:
    exe = app(outdir, variant)
    script = f'probe process("{exe}").{probe}'
    ref = oracle("-g", "-p2", "-e", script, cwd=outdir)
    mine = run_cli("-g", "-p2", "-e", script, cache=cache)
    keep = [ln for ln in ref.stderr.splitlines() if "Kernel function symbol" not in ln and not ln.startswith("Tip:")]
    assert mine.stderr.splitlines() == keep
    assert mine.returncode == ref.returncode
    if ref.returncode == 0:
        assert [ln for ln in mine.stdout.splitlines() if ln.startswith("process(")] == \
               [ln for ln in ref.stdout.splitlines() if ln.startswith("process(")]


@pytest.mark.parametrize("probe,msg", [
    ('function("konst") { $k = 5 }', "Expecting lvalue for assignment"),       # DW_AT_const_value (stap crashes)
    ('function("move") { $dx++ }', "Only the following assign operator is implemented on target variables:  ="),
])
def test_more_refusals(outdir: Path, cache: Path, probe: str, msg: str) -> None:
    exe = app(outdir, "O2")
    r = run_cli("-g", "-p2", "-e", f'probe process("{exe}").{probe}', cache=cache)
    assert r.returncode == 1
    assert r.stderr.startswith(f"semantic error: {msg}: "), r.stderr


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_return_value_write(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    script = ('probe process.function("scale").return { $return = 99 } '
              'probe process.function("bump").return { $return = -7 }')
    out, err, status = run(str(exe), script, cache, "-g")
    assert out == UNTRACED.replace("scale=42", "scale=99").replace("bump=11", "bump=-7"), err
    assert status == 0


def test_return_probe_entry_values_are_not_writable(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    r = run_cli("-g", "-p2", "-e", f'probe process("{exe}").function("scale").return {{ $v = 99 }}', cache=cache)
    assert r.returncode == 1
    assert r.stderr.startswith("semantic error: write to target variable not permitted in .return probes: "
                               "identifier '$v' at <input>:1:"), r.stderr
