"""System-call probes at run time (uprobe_py/ptrace/syscall_stops.py + engine.py):
`syscall.NAME[.return]` aliases in the -c command (seccomp filter: only probed calls stop)
and in processes attached with -x (PTRACE_SYSCALL), with stap's argstr/retstr; the
seccomp filter itself checked against the kernel (only the listed calls stop)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from uprobe_py.ptrace import syscalls as sc
from uprobe_py.ptrace.syscall_stops import install_seccomp, seccomp_filter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, compile_target, run, untraced  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sysbins")
    return {name: compile_target(name, out / name, "-g", "-O1", *extra)
            for name, extra in (("syscalls", []), ("family", ["-pthread"]))}


def test_seccomp_filter_stops_only_the_listed_calls() -> None:
    """A child under PTRACE_O_TRACESECCOMP with a filter for getppid: 3 getpid and 2 getppid
    calls give exactly 2 seccomp stops, with the right numbers, and the child exits 0."""
    nr_getppid = 110
    prog = seccomp_filter({nr_getppid, 9999})
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        install_seccomp(prog)
        for _ in range(3):
            os.getpid()
        os.getppid()
        os.getppid()
        os._exit(0)
    os.close(r)
    sc.seize(pid, sc.PTRACE_O_TRACESECCOMP | sc.PTRACE_O_EXITKILL)
    os.write(w, b"x")
    os.close(w)
    stops = []
    while True:
        _, st = os.waitpid(pid, sc.WALL)
        if os.WIFEXITED(st) or os.WIFSIGNALED(st):
            break
        if st >> 16 == sc.PTRACE_EVENT_SECCOMP:
            stops.append(sc.getregs(pid).orig_rax)
            sc.cont(pid, 0)
        else:
            sig = os.WSTOPSIG(st)
            sc.cont(pid, 0 if st >> 16 or sig == signal.SIGTRAP else sig)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
    assert stops == [nr_getppid, nr_getppid]


def test_alias_argstr_and_retstr_in_the_c_command(bins: dict[str, Path], tmp_path: Path) -> None:
    exe = bins["syscalls"]
    want_out, want_rc = untraced([str(exe)])
    script = ('probe syscall.openat, syscall.write, syscall.connect { printf("%s(%s)\\n", name, argstr) } '
              'probe syscall.openat.return, syscall.write.return, syscall.connect.return '
              '{ printf("%s = %s\\n", name, retstr) }')
    out, err, rc = run(str(exe), script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc
    lines = [ln for ln in out.splitlines() if "uprobe_py_sc" in ln or ln.startswith(("write", "connect"))
             or " = " in ln]
    assert 'openat(AT_FDCWD, "/tmp/uprobe_py_sc.txt", O_WRONLY|O_CREAT|O_TRUNC, 0640)' in lines
    assert 'write(3, "hi\\n", 3)' in lines
    assert "write = 3" in lines
    assert any(ln.startswith("connect(") for ln in lines)
    assert "connect = -111 (ECONNREFUSED)" in lines


def test_syscall_counts_equal_strace(bins: dict[str, Path], tmp_path: Path) -> None:
    exe = bins["family"]
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    strace = subprocess.run(["strace", "-f", "-qq", "-e", "trace=write", "-o", str(tmp_path / "st"),
                             str(exe), "fork", "2", "5"], capture_output=True, text=True)
    if strace.returncode != 0:
        pytest.skip("strace is not usable here")
    want = sum(1 for ln in (tmp_path / "st").read_text().splitlines() if "write(" in ln)
    script = 'global n probe syscall.write { n++ } probe end { printf("writes=%d\\n", n) }'
    out, err, rc = run(f"{exe} fork 2 5", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert out.splitlines()[-1] == f"writes={want}"


def test_syscall_probes_in_an_attached_process(bins: dict[str, Path], tmp_path: Path) -> None:
    """-x: PTRACE_SYSCALL (no filter), and the process runs on unharmed after the detach."""
    server = subprocess.Popen([str(bins["family"]), "server"], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())           # type: ignore[union-attr]
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
        script = ('global n, r probe syscall.clock_nanosleep { n++ } probe syscall.clock_nanosleep.return { r++ } '
                  'probe end { printf("%d %d\\n", n > 20, r > 20) }')
        res = subprocess.run([sys.executable, "-m", "uprobe_py", "-x", str(pid), "-T", "0.5", "-e", script],
                             capture_output=True, text=True, env=env, timeout=120)
        assert (res.stdout, res.stderr, res.returncode) == ("1 1\n", "", 0)
        assert server.poll() is None
        server.terminate()
        out, _ = server.communicate(timeout=30)
        assert server.returncode == 0 and out.startswith("server stopped")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_process_syscall_context_variables(bins: dict[str, Path], tmp_path: Path) -> None:
    exe = bins["family"]
    script = ('probe process.syscall { if ($syscall == 1) printf("write(%d, %d) %s\\n", $arg1, $arg3, '
              'substr($$parms, 0, 8)) } '
              'probe process.syscall.return { if ($syscall == 1) printf("= %d\\n", $return) }')
    out, err, rc = run(f"{exe} plain 2", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert out.splitlines() == ["plain total=2", "write(1, 14) $arg1=0x", "= 14"]


ORACLE = ROOT.parent / "shared" / "tools" / "stap-oracle"


@pytest.mark.skipif(not ORACLE.exists(), reason="stap-oracle is not available")
@pytest.mark.parametrize("body", ["print($return)", "print($foo)", "print($arg1->x)", "print($arg7)"])
def test_process_syscall_errors_are_stap_s(bins: dict[str, Path], tmp_path: Path, body: str) -> None:
    script = f'probe process("{bins["family"]}").syscall {{ {body} }}'
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    mine = subprocess.run([sys.executable, "-m", "uprobe_py", "-p2", "-e", script], capture_output=True,
                          text=True, env=env, timeout=120)
    ref = subprocess.run([str(ORACLE), "-p2", "-e", script], capture_output=True, text=True, timeout=300)
    theirs = "".join(ln for ln in ref.stderr.splitlines(keepends=True)
                     if not ln.startswith(("WARNING: Kernel function symbol table missing", "Tip:")))
    assert mine.stderr == theirs
    assert mine.returncode == ref.returncode == 1


def test_second_set_aliases_in_the_c_command(tmp_path: Path) -> None:
    """futex, rt_sigprocmask, pipe (pipe2), epoll_ctl, prlimit64, umask decoded through the CLI's -c command."""
    exe = compile_target("syscalls2", tmp_path / "syscalls2", "-O0")
    script = ('probe syscall.futex, syscall.rt_sigprocmask, syscall.pipe, syscall.epoll_ctl, syscall.prlimit64 '
              '{ if (pid() == target()) printf("%s(%s)\\n", name, argstr) } '
              'probe syscall.umask.return, syscall.pipe.return '
              '{ if (pid() == target()) printf("%s = %s\\n", name, retstr) }')
    out, err, rc = run(str(exe), script, tmp_path)
    assert rc == 0, err
    lines = out.splitlines()
    assert any(ln.startswith("futex(0x") and ln.endswith(", FUTEX_WAIT, 1, [0.000005000])") for ln in lines), out
    assert "rt_sigprocmask(SIG_BLOCK, [SIGINT|SIGTERM], 0x0, 8)" in lines
    assert "pipe2 = 0" in lines and any(ln.startswith("pipe2([") for ln in lines)
    assert any(ln.startswith("epoll_ctl(") and ", EPOLL_CTL_ADD, " in ln for ln in lines)
    assert "prlimit64(0, RLIMIT_NOFILE, [1024,4096], 0x0)" in lines
    assert lines[-1] == "umask = 022"
