"""The ptrace engine (uprobe_py/ptrace/, issue 3 v0): entry probes in the `-c` command.

Each test compiles a target (targets/loop.c, whose call counts are known from its
argument, or targets/simple.c), runs uprobe-py on it and checks the exact hit
count, the context built-ins, and that tracing leaves the target's own stdout and
exit status unchanged, also when the session ends early (exit(), an error, -T):
the breakpoints are then removed and the target detached, so it finishes its work.
The target's exit status is reported by a thin wrapper around the CLI (ptrace_support.WRAP).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, ROOT, build, run, untraced  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ptrace-targets")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def exe(outdir: Path, target: str, variant: str) -> Path:
    return build.build(target, variant, outdir)


COUNT = 'global n, m probe process.function("tick") { n++ } probe process.function("tock") { m++ } ' \
        'probe end { printf("%d %d\\n", n, m) }'


@pytest.mark.parametrize("variant", ["O0", "O2", "nopie", "O2-nopie", "nodebug", "stripped"])
def test_exact_hit_counts_and_target_unchanged(outdir: Path, cache_home: Path, variant: str) -> None:
    app = exe(outdir, "loop", variant)
    want_out, want_rc = untraced([str(app), "1235"])
    assert want_out.startswith("ticks=1235 tocks=618 ") and want_rc == 1235 % 7
    out, err, status = run(f"{app} 1235", COUNT, cache_home)
    assert out == want_out + "1235 618\n", err
    assert status == want_rc
    assert err == "[uprobe-py exit 0]"


def test_path_probe_and_process_function_agree(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O2")
    out, err, status = run(f"{app} 40", f'global n probe process("{app}").function("tick") {{ n++ }} '
                           'probe end { println(n) }', cache_home)
    assert out.endswith("\n40\n") and status == 40 % 7, err


def test_context_builtins_as_stap_prints_them(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "simple", "O0")
    script = ('probe process.function("add") { printf("%s|%s|%s|%d|%d|%s|%d|%d|%d|%d\\n", pp(), probefunc(), '
              'ppfunc(), pid() == target(), tid() == pid(), execname(), uaddr() == register("rip"), '
              'register("rdi"), u_register("esi"), user_mode()) }')
    want_out, want_rc = untraced([str(app), "2"])
    out, err, status = run(f"{app} 2", script, cache_home)
    pp = f'process("{os.path.realpath(app)}").function("add@{ROOT / "targets" / "simple.c"}:14")'
    assert want_out in out, err             # the target's line may come before the last handler's
    assert out.replace(want_out, "").splitlines() == [f"{pp}|add|add|1|1|{app.name}|1|0|0|1",
                                                      f"{pp}|add|add|1|1|{app.name}|1|1|1|1"], err
    assert status == want_rc


def test_probes_sharing_an_address_run_in_declaration_order(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O2")
    want_out, _ = untraced([str(app), "3"])
    out, err, _ = run(f"{app} 3", 'probe process.function("tick") { print("A") } '
                      'probe process.function("tick") { print("B") } probe end { println("") }', cache_home)
    assert want_out in out and out.replace(want_out, "") == "ABABAB\n", err   # the target's line may come anywhere


def test_exit_in_a_handler_detaches_and_the_target_finishes(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O0")
    want_out, want_rc = untraced([str(app), "100000"])
    out, err, status = run(f"{app} 100000 ignore-term", 'global n probe process.function("tick") '
                           '{ if (++n == 10) exit() } probe end { println(n) }', cache_home)
    assert sorted(out.splitlines()) == sorted(["10"] + want_out.splitlines()), err
    assert status == want_rc and err == "[uprobe-py exit 0]"


def test_an_error_in_a_handler_detaches_cleanly(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "nopie")
    want_out, want_rc = untraced([str(app), "100000"])
    out, err, status = run(f"{app} 100000 ignore-term", 'global n probe process.function("tick") '
                           '{ if (++n == 5) println(1/0) } probe error { println("error ", n) }', cache_home)
    assert sorted(out.splitlines()) == sorted(["error 5"] + want_out.splitlines()), err
    assert status == want_rc                      # not killed by a stray int3 (SIGTRAP)
    assert err.startswith("ERROR: division by 0 near operator '/' at <input>:1:")
    assert err.endswith("Pass 5: run failed.  [man error::pass5]\n[uprobe-py exit 1]")


def test_timeout_detaches_a_running_target(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O2")
    want_out, want_rc = untraced([str(app), "30000000"])
    out, err, status = run(f"{app} 30000000 ignore-term", 'global n probe process.function("tick") { n++ } '
                           'probe end { println(n > 0) }', cache_home, "-T", "1")
    assert sorted(out.splitlines()) == sorted(["1"] + want_out.splitlines()), err
    assert status == want_rc and err == "[uprobe-py exit 0]"


def test_signals_reach_the_target_unchanged(outdir: Path, cache_home: Path) -> None:
    # sh is not traced into (no fork following yet): it only delivers SIGTERM to the traced loop
    app = exe(outdir, "loop", "O0")
    out, err, status = run(f"{app} 100000000", 'global n probe process.function("tick") { n++; '
                           'if (n == 3) system("kill -TERM " . sprint(pid())) } probe end { println(n >= 3) }',
                           cache_home)
    assert out == "1\n", err
    assert status == -15                           # killed by its SIGTERM, as without tracing


# --- .return probes: an int3 at the return site, matched by thread and stack pointer ---------

RET_COUNT = ('global e, r probe process.function("tick").call, process.function("tock").call { e[ppfunc()]++ } '
             'probe process.function("tick").return, process.function("tock").return { r[ppfunc()]++ } '
             'probe end { printf("%d %d %d %d\\n", e["tick"], r["tick"], e["tock"], r["tock"]) }')


@pytest.mark.parametrize("variant", ["O0", "O2", "nopie", "stripped"])
def test_return_hit_counts_equal_entry_counts(outdir: Path, cache_home: Path, variant: str) -> None:
    app = exe(outdir, "loop", variant)
    want_out, want_rc = untraced([str(app), "1235"])
    out, err, status = run(f"{app} 1235", RET_COUNT, cache_home)
    assert out == want_out + "1235 1235 618 618\n", err
    assert status == want_rc and err == "[uprobe-py exit 0]"


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_return_under_recursion(outdir: Path, cache_home: Path, variant: str) -> None:
    # fib(10) recurses 177 times at -O0 (several pending returns on one return site, told
    # apart by rsp); at -O2 gcc keeps fewer real calls, and each still returns exactly once
    app = exe(outdir, "simple", variant)
    want_out, want_rc = untraced([str(app), "3"])
    script = ('global e, r, bad probe process.function("*").call { e[ppfunc()]++ } '
              'probe process.function("*").return { r[ppfunc()]++; if (!is_return()) bad++ } '
              'probe end { foreach (k in e) if (k != "_start" && k != "frame_dummy") '
              'printf("%s %d %d\\n", k, e[k], r[k]); printf("bad=%d\\n", bad) }')
    out, err, status = run(f"{app} 3", script, cache_home)
    assert out.startswith(want_out), err
    rows = [ln.split() for ln in out[len(want_out):].splitlines()]
    assert rows[-1] == ["bad=0"], err
    counts = {k: (int(a), int(b)) for k, a, b in rows[:-1]}
    assert all(a == b for a, b in counts.values()), counts
    assert counts["main"] == (1, 1) and counts["greet"] == (1, 1)
    if variant == "O0":                   # _start never returns; frame_dummy tail-calls (jmp)
        assert counts["fib"] == (177, 177) and counts["add"] == (3, 3) and counts["square"] == (6, 6)
    assert status == want_rc


def test_return_pp_and_return_value_register(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "simple", "O0")
    want_out, want_rc = untraced([str(app), "2"])
    out, err, status = run(f"{app} 2", 'probe process.function("add").return { printf("%s|%d|%d|%s\\n", '
                           'pp(), is_return(), register("rax"), probe_type()) }', cache_home)
    pp = f'process("{os.path.realpath(app)}").function("add@{ROOT / "targets" / "simple.c"}:14").return'
    assert want_out in out, err
    assert out.replace(want_out, "").splitlines() == [f"{pp}|1|0|uretprobe", f"{pp}|1|2|uretprobe"], err
    assert status == want_rc and err == "[uprobe-py exit 0]"


def test_entry_and_return_probes_share_the_entry_int3(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O2")
    want_out, _ = untraced([str(app), "3"])
    out, err, _ = run(f"{app} 3", 'probe process.function("tick").return { print("R") } '
                      'probe process.function("tick") { print("E") } '
                      'probe process.function("tick").return { print("r") } probe end { println("") }', cache_home)
    assert want_out in out and out.replace(want_out, "") == "ERrERrERr\n", err   # declaration order


LONGJMP_C = r"""
#include <setjmp.h>
#include <stdio.h>
static jmp_buf env;
__attribute__((noinline)) void deep(int n) { if (n == 0) longjmp(env, 1); deep(n - 1); __asm__ volatile(""); }
__attribute__((noinline)) int leaf(int n) { return n * 2; }
int main(void)
{
    volatile int s = 0;
    for (int i = 0; i < 5; i++) {
        if (setjmp(env) == 0) {
            deep(3);
            s += 100;
        }
        s += leaf(i);
    }
    printf("s=%d\n", s);
    return s % 7;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_frames_skipped_by_longjmp_never_return(tmp_path: Path, cache_home: Path, opt: str) -> None:
    src = tmp_path / "lj.c"
    src.write_text(LONGJMP_C)
    app = tmp_path / f"lj{opt}"
    subprocess.run(["gcc", "-g", opt, "-o", str(app), str(src)], check=True, capture_output=True)
    want_out, want_rc = untraced([str(app)])
    assert want_out == "s=20\n" and want_rc == 6
    out, err, status = run(str(app), 'global e, r probe process.function("deep").call, '
                           'process.function("leaf").call { e[ppfunc()]++ } probe process.function("deep").return, '
                           'process.function("leaf").return { r[ppfunc()]++ } '
                           'probe end { printf("%d %d %d %d\\n", e["deep"], r["deep"], e["leaf"], r["leaf"]) }',
                           cache_home)
    assert out == want_out + "20 0 5 5\n", err
    assert status == want_rc and err == "[uprobe-py exit 0]"


def test_exit_in_a_return_handler_removes_return_sites_and_detaches(outdir: Path, cache_home: Path) -> None:
    app = exe(outdir, "loop", "O2")
    want_out, want_rc = untraced([str(app), "100000"])
    out, err, status = run(f"{app} 100000 ignore-term", 'global n probe process.function("tick").return '
                           '{ if (++n == 10) exit() } probe end { println(n) }', cache_home)
    assert sorted(out.splitlines()) == sorted(["10"] + want_out.splitlines()), err
    assert status == want_rc and err == "[uprobe-py exit 0]"   # no stray int3 left at the return site


TAIL_SRC = r"""
#include <stdio.h>
__attribute__((noinline)) int inner(int x) { return x * 7; }
__attribute__((noinline)) int outer(int x) { return inner(x + 1); }   /* -O2: add; jmp inner */
int main(void) { int s = 0; for (int i = 0; i < 3; i++) s += outer(i); printf("%d\n", s); return 0; }
"""


def test_tail_call_returns_both_functions_innermost_first(tmp_path: Path, cache_home: Path) -> None:
    """outer() ends in `jmp inner`: both return through the same slot, and both .return probes
    fire there (inner first), as uretprobes' chained instances do."""
    (tmp_path / "tail.c").write_text(TAIL_SRC)
    app = tmp_path / "tail"
    subprocess.run(["gcc", "-g", "-O2", "-o", str(app), str(tmp_path / "tail.c")], check=True, capture_output=True)
    dis = subprocess.run(["objdump", "-d", str(app)], capture_output=True, text=True).stdout
    outer = dis.split("<outer>:", 1)[1].split("\n\n", 1)[0]
    if "jmp" not in outer:
        pytest.skip("this compiler did not make outer() a tail call")
    script = (f'probe process("{app}").function("inner").return, process("{app}").function("outer").return '
              '{ printf("<- %s %d\\n", ppfunc(), $return) }')
    out, err, status = run(str(app), script, cache_home)
    assert err == "[uprobe-py exit 0]"
    assert status == 0
    lines = out.splitlines()
    lines.remove("42")
    assert lines == ["<- inner 7", "<- outer 7", "<- inner 14", "<- outer 14", "<- inner 21", "<- outer 21"]
