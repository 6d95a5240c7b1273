"""Whole-process tracing (uprobe_py/ptrace/engine.py, address_space.py): probes follow the
`-c` command's threads, fork and vfork children and new programs (exec), and `-x PID`
attaches to a running process, which runs on unharmed afterwards.

targets/family.c does known amounts of work() calls in each shape; every test asserts the
exact hit count, the number of processes that hit, and the program's own output and exit
status unchanged by tracing.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uprobe_py.elf.image import ElfImage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, compile_target, run, untraced  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

SCRIPT = ('global n, procs, tids probe process("{exe}").function("work") {{ n++; procs[pid()]++; tids[tid()]++ }} '
          'probe end {{ p = 0; foreach (x in procs) p++; t = 0; foreach (y in tids) t++; '
          'printf("hits=%d procs=%d threads=%d\\n", n, p, t) }}')


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_target("family", tmp_path_factory.mktemp("family") / "family", "-g", "-O1", "-pthread")


def traced(family: Path, args: str, tmp_path: Path) -> tuple[list[str], str, int]:
    out, err, rc = run(f"{family} {args}", SCRIPT.format(exe=family), tmp_path, timeout=300)
    return out.splitlines(), err, rc


@pytest.mark.parametrize("args,hits,procs,threads", [
    ("threads 4 2000", 8000, 1, 4),
    ("fork 3 200", 800, 4, 4),
    ("vfork 50", 100, 2, 2),
    ("exec 40", 80, 1, 1),
])
def test_probes_follow_threads_children_and_exec(family: Path, tmp_path: Path, args: str, hits: int,
                                                  procs: int, threads: int) -> None:
    want_out, want_rc = untraced([str(family), *args.split()])
    lines, err, rc = traced(family, args, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc == 0
    assert sorted(lines[:-1]) == sorted(want_out.splitlines())
    assert lines[-1] == f"hits={hits} procs={procs} threads={threads}"


def test_eight_threads_hundred_thousand_calls_each(family: Path, tmp_path: Path) -> None:
    """The issue's bar: 8 threads x 10^5 calls of a probed function = exactly 8*10^5 hits,
    and the program's result unchanged."""
    lines, err, rc = traced(family, "threads 8 100000", tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert lines == ["threads total=800000", "hits=800000 procs=1 threads=8"]


def _text_bytes(pid: int, exe: Path, symbol: str, n: int = 16) -> tuple[bytes, bytes]:
    """(the bytes at `symbol` in the running process, the same bytes in the file)."""
    img = ElfImage(str(exe))
    sym = next(s for s in img.symbols if s.name == symbol)
    base = None
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith(str(exe)):
                start = int(line.split("-", 1)[0], 16)
                base = start if base is None else min(base, start)
    assert base is not None
    with open(f"/proc/{pid}/mem", "rb") as m:
        m.seek(base + img.offset_of(sym.addr))
        live = m.read(n)
    sec = next(s for s in img.elf.iter_sections() if s["sh_addr"] <= sym.addr < s["sh_addr"] + s["sh_size"])
    data = exe.read_bytes()
    fo = sec["sh_offset"] + sym.addr - sec["sh_addr"]
    return live, data[fo:fo + n]


def test_attach_with_x_then_detach_leaves_the_process_running_unharmed(family: Path, tmp_path: Path) -> None:
    server = subprocess.Popen([str(family), "server"], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())           # type: ignore[union-attr]
        mask = os.sched_getaffinity(pid)
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
        for script in ('global n probe process.function("work") { n++ } '
                       'probe end { printf("%s\\n", n > 20 ? "hits" : "none") }',
                       f'global n probe process("{family}").function("work").return {{ n++ }} '
                       'probe timer.ms(300) { exit() } probe end { printf("%s\\n", n > 20 ? "hits" : "none") }'):
            r = subprocess.run([sys.executable, "-m", "uprobe_py", "-x", str(pid), "-T", "1", "-e", script],
                               capture_output=True, text=True, env=env, timeout=120)
            assert (r.stdout, r.stderr, r.returncode) == ("hits\n", "", 0)
            live, file = _text_bytes(pid, family, "work")
            assert live == file                     # every int3 removed
            assert os.sched_getaffinity(pid) == mask
            time.sleep(0.05)
            assert server.poll() is None            # still running
        server.terminate()
        out, _ = server.communicate(timeout=30)
        assert server.returncode == 0
        assert out.startswith("server stopped total=")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_attach_to_a_missing_process_is_a_clear_error(family: Path, tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    pid = 4_000_000          # above pid_max on this kernel's defaults
    r = subprocess.run([sys.executable, "-m", "uprobe_py", "-x", str(pid), "-e",
                        f'probe process("{family}").function("work") {{ println(1) }}'],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.stderr == (f"ERROR: cannot attach to process {pid}: no such process\n"
                        "WARNING: Number of errors: 1, skipped probes: 0\n"
                        "Pass 5: run failed.  [man error::pass5]\n")
    assert r.returncode == 1


def test_process_pid_probes_attach_without_x(family: Path, tmp_path: Path) -> None:
    """process(PID).function(...) and process(PID).statement(ADDRESS).absolute attach to PID."""
    server = subprocess.Popen([str(family), "server"], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())           # type: ignore[union-attr]
        img = ElfImage(str(family))
        work = next(s.addr for s in img.symbols if s.name == "work")
        with open(f"/proc/{pid}/maps") as f:
            base = min(int(ln.split("-", 1)[0], 16) for ln in f if ln.rstrip().endswith(str(family)))
        absolute = base + img.offset_of(work)
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
        script = (f'global a, b probe process({pid}).function("work") {{ a++ }} '
                  f'probe process({pid}).statement({absolute:#x}).absolute {{ b++ }} '
                  'probe end { printf("%d %d\\n", a > 20, b > 20) }')
        r = subprocess.run([sys.executable, "-m", "uprobe_py", "-T", "1", "-e", script],
                           capture_output=True, text=True, env=env, timeout=120)
        assert (r.stdout, r.stderr, r.returncode) == ("1 1\n", "", 0)
        live, file = _text_bytes(pid, family, "work")
        assert live == file
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


LIFE = ('global b, e, tb, te probe process.begin {{ b++ }} probe process("{exe}").end {{ e++ }} '
        'probe process("{exe}").thread.begin {{ tb++ }} probe process.thread.end {{ te++ }} '
        'probe end {{ printf("begin=%d end=%d thread.begin=%d thread.end=%d\\n", b, e, tb, te) }}')


@pytest.mark.parametrize("args,want", [
    ("threads 3 10", "begin=1 end=1 thread.begin=3 thread.end=3"),
    ("fork 2 5", "begin=3 end=3 thread.begin=0 thread.end=0"),
    ("exec 3", "begin=2 end=1 thread.begin=0 thread.end=0"),     # the exec'd image begins again
])
def test_process_and_thread_begin_end(family: Path, tmp_path: Path, args: str, want: str) -> None:
    out, err, rc = run(f"{family} {args}", LIFE.format(exe=family), tmp_path, timeout=120)
    assert err == "[uprobe-py exit 0]"
    assert out.splitlines()[-1] == want
