"""`process("PATH").function("FUNC").label("LABEL")` probes (uprobe_py/elf/query_label.py).

targets/labels.c has goto labels (`found`, `fail`), a label a loop jumps back to
(`again`), and a static inline function with a label (`out`: inlined at -O2, where gcc
leaves that label without an address, so stap finds nothing there). The listings are
cross-checked with the real stap (stap-oracle, skipped when absent): `-p2` (pp with the
label's line, pc, the derivation naming the label, the "not contained by its scope"
warnings, and stap's quirk of adding symbol-table-only functions to `function("*")`),
`-l` and `-L`. The run-time tests count exact hits and read `$var`s at the labels.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_process_resolve import oracle  # noqa: E402
from test_process_resolve import run as run_cli  # noqa: E402
from ptrace_support import REASON, build, run, untraced  # noqa: E402

TARGET_OUT = "s=83\n"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not build.available():
        pytest.skip("gcc/g++/strip are not installed")
    return tmp_path_factory.mktemp("label-targets")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def app(outdir: Path, variant: str) -> Path:
    return build.build("labels", variant, outdir)


def stap_lines(text: str) -> list[str]:
    """stap's output less what only the oracle's kernel-less machine prints."""
    return [ln for ln in text.splitlines() if "Kernel function symbol table missing" not in ln
            and not ln.startswith("Tip:")]


POINTS = ['function("*").label("*")', 'function("find_*").label("f*")', 'function("*@labels.c").label("*")',
          'function("sum_loop").label("again")', 'function("find_first@labels.c:17").label("found")',
          'function("_init").label("*")', 'function("checked_div").label("fail")']


@pytest.mark.parametrize("variant", ["O0", "O2", "nopie"])
@pytest.mark.parametrize("point", POINTS)
def test_p2_equals_stap(outdir: Path, cache: Path, variant: str, point: str) -> None:
    exe = app(outdir, variant)
    script = f'probe process("{exe}").{point} {{ print(1) }}'
    ref = oracle("-p2", "-e", script, cwd=outdir)
    mine = run_cli("-p2", "-e", script, cache=cache)
    assert mine.stdout == ref.stdout
    assert stap_lines(mine.stderr) == stap_lines(ref.stderr)
    assert mine.returncode == ref.returncode


@pytest.mark.parametrize("variant", ["O0", "O2"])
@pytest.mark.parametrize("opt", ["-l", "-L"])
def test_listings_equal_stap(outdir: Path, cache: Path, variant: str, opt: str) -> None:
    exe = app(outdir, variant)
    for point in (f'process("{exe}").function("*").label("*")', f'process("{exe}").function("s*").label("a*")'):
        ref = oracle(opt, point, cwd=outdir)
        mine = run_cli(opt, point, cache=cache)
        assert mine.stdout == ref.stdout
        assert mine.returncode == ref.returncode


@pytest.mark.parametrize("point", ['function("clamp_inl").label("out")', 'function("main").label("x")',
                                   'function("find_first").label("found").return',
                                   'function("find_first").call.label("found")',
                                   'function("find_first").label', 'statement("find_first").label("found")'])
def test_errors_equal_stap(outdir: Path, cache: Path, point: str) -> None:
    exe = app(outdir, "O2")
    script = f'probe process("{exe}").{point} {{ print(1) }}'
    ref = oracle("-p2", "-e", script, cwd=outdir)
    mine = run_cli("-p2", "-e", script, cache=cache)
    assert stap_lines(mine.stderr) == stap_lines(ref.stderr)
    assert mine.returncode == ref.returncode != 0


def test_listing_without_oracle(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    out = run_cli("-L", f'process("{exe}").function("*").label("*")', cache=cache).stdout.splitlines()
    src = Path(__file__).resolve().parent.parent / "targets" / "labels.c"
    assert f'process("{exe}").function("find_first@{src}:17").label("found") $a:int const* $n:int ' \
           f'$want:int $i:int' in out
    assert f'process("{exe}").function("sum_loop@{src}:25").label("again") $n:int $total:int $k:int' in out
    assert f'process("{exe}").function("_init").label("*")' in out


# --- run time ----------------------------------------------------------------------------
needs_ptrace = pytest.mark.skipif(bool(REASON), reason=REASON or "-")
COUNT = ('global h probe process.function("*@labels.c").label("*") { h[ppfunc()]++ } '
         'probe end { foreach (f+ in h) printf("%s %d\\n", f, h[f]) }')


@needs_ptrace
def test_hit_counts_O0(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    out, err, status = run(str(exe), COUNT, cache)
    assert out == TARGET_OUT + "checked_div 1\nclamp_inl 6\nfind_first 1\nsum_loop 5\n", err
    assert status == 0


@needs_ptrace
def test_hit_counts_O2(outdir: Path, cache: Path) -> None:
    # -O2: clamp_inl's label has no address; checked_div's is in the out-of-line copy,
    # which main never calls (it has its own inline copies); find_first's two copies
    # both reach their label's address once
    exe = app(outdir, "O2")
    out, err, status = run(str(exe), COUNT, cache)
    assert out == TARGET_OUT + "find_first 2\nsum_loop 5\n", err
    assert status == 0


LOOP = 'probe process.function("sum_loop").label("again") { printf("total=%d k=%d n=%d\\n", $total, $k, $n) }'
LOOP_OUT = "".join(f"total={t} k={k} n=5\n" for t, k in ((0, 0), (0, 1), (1, 2), (3, 3), (6, 4)))


@needs_ptrace
@pytest.mark.parametrize("variant", ["O0", "O2", "nopie"])
def test_vars_at_a_loop_label(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    out, err, status = run(str(exe), LOOP, cache)
    assert out == TARGET_OUT + LOOP_OUT, err
    assert status == 0
    assert untraced([str(exe)]) == (TARGET_OUT, 0)


@needs_ptrace
def test_vars_at_goto_labels_O0(outdir: Path, cache: Path) -> None:
    exe = app(outdir, "O0")
    script = ('probe process.function("find_first").label("found") { printf("found a[i]=%d i=%d want=%d\\n", '
              '$a[$i], $i, $want) } '
              'probe process.function("clamp_inl").label("out") { printf("out v=%d %s\\n", $v, $$parms) } '
              'probe process.function("checked_div").label("fail") { printf("fail %d/%d %s\\n", $a, $b, pp()) }')
    out, err, status = run(str(exe), script, cache)
    src = Path(__file__).resolve().parent.parent / "targets" / "labels.c"
    outs = "".join(f"out v={v} v={v:#x} lo=0x0 hi=0x9\n" for v in (0, 1, 4, 7, 9, 9))
    assert out == (TARGET_OUT + "found a[i]=15 i=2 want=15\n" + outs
                   + f'fail 1/0 process("{exe}").function("checked_div@{src}:54")\n'), err
    assert "div by zero" in err
    assert status == 0
