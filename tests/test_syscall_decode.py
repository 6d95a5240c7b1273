"""The syscall alias library (uprobe_py.syscalls) against a real tracee: a tiny
PTRACE_SYSCALL loop feeds real registers and memory to the decoder, which must give
stap's exact argstr/retstr/variables. Also: alias resolution and the `syscall` family's
pass-2/3 plumbing (pre-bound alias locals)."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uprobe_py.ptrace import syscalls as pt
from uprobe_py.syscalls import AliasError, alias_spec, by_number, resolve_alias
from uprobe_py.syscalls.table import NAME_TO_NR, STAP_ALIASES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import ROOT, build, compile_target  # noqa: E402

PTRACE_SYSCALL, PTRACE_SETOPTIONS, O_TRACESYSGOOD = 24, 0x4200, 1


def _trace(path: str) -> list[tuple[str, str, str, dict]]:
    """(alias, argstr, retstr, entry variables) for every decoded call the target makes."""
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        try:
            libc.ptrace(pt.PTRACE_TRACEME, 0, None, None)
            os.execv(path, [path])
        finally:
            os._exit(127)
    os.waitpid(pid, 0)
    pt.ptrace(PTRACE_SETOPTIONS, pid, 0, O_TRACESYSGOOD)
    mem = pt.Memory(pid)
    out = []
    pending = None
    try:
        while True:
            pt.ptrace(PTRACE_SYSCALL, pid, 0, 0)
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                break
            if not (os.WIFSTOPPED(status) and os.WSTOPSIG(status) == (0x80 | 5)):
                continue
            r = pt.getregs(pid)
            if pending is None:
                nr = r.orig_rax
                args = (r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9)
                spec = by_number(nr)
                entry = spec.values(nr, args, None, mem) if spec else None
                pending = (nr, args, spec, entry)
                if nr == NAME_TO_NR["exit_group"] and spec:
                    out.append((spec.alias, entry["argstr"], "", entry))
            else:
                nr, args, spec, entry = pending
                pending = None
                if spec is not None:
                    ret = alias_spec(spec.alias, True).values(nr, args, r.rax, mem)
                    out.append((spec.alias, entry["argstr"], ret["retstr"], entry))
    finally:
        mem.close()
    # from the marker on (the dynamic loader's calls before main vary)
    start = max(i for i, o in enumerate(out) if o[0] == "getpid")
    return out[start + 1:]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> list:
    if not build.available():
        pytest.skip("no C compiler")
    ok, why = pt.ptrace_permitted()
    if not ok:
        pytest.skip(why)
    exe = build.build("syscalls", "O0", tmp_path_factory.mktemp("sc"))
    return _trace(str(exe))


def test_argstr_and_retstr_as_stap_prints_them(traced: list) -> None:
    got = [(a, s, r) for a, s, r, _ in traced]
    assert got[0] == ("open", '"/nonexistent/x", O_RDONLY|O_CLOEXEC', "-2 (ENOENT)")
    fd = got[1][2]
    assert got[1][:2] == ("openat", 'AT_FDCWD, "/tmp/uprobe_py_sc.txt", O_WRONLY|O_CREAT|O_TRUNC, 0640')
    assert got[2] == ("write", f'{fd}, "hi\\n", 3', "3")
    assert got[3] == ("close", fd, "0")
    assert got[4] == ("unlink", '"/tmp/uprobe_py_sc.txt"', "0")
    assert got[5][0] == "mmap2" and got[5][1] == "0x0, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0"
    assert got[5][2].startswith("0x7f")
    addr = got[5][2]
    assert got[6] == ("mprotect", f"{addr}, 4096, PROT_READ", "0")
    assert got[7] == ("munmap", f"{addr}, 8192", "0")
    sock = got[8][2]
    assert got[8][:2] == ("socket", "PF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP")
    assert got[9] == ("connect", f"{sock}, {{AF_INET, 127.0.0.1, 1}}, 16", "-111 (ECONNREFUSED)")
    assert got[10] == ("close", sock, "0")
    assert got[11][:2] == ("nanosleep", "[0.000001000], 0x0") and got[11][2] == "0"
    assert got[12] == ("kill", "0, SIG_0", "0")
    assert got[13] == ("access", '"/", R_OK|X_OK', "0")
    assert got[14][:2] == ("lseek", "0, -5, SEEK_END")
    assert got[15][:2] == ("exit_group", "3")


def test_entry_variables(traced: list) -> None:
    open_vars = traced[0][3]
    assert open_vars == {"name": "open", "filename": '"/nonexistent/x"', "filename_unquoted": "/nonexistent/x",
                         "flags": 0o2000000, "flags_str": "O_RDONLY|O_CLOEXEC", "mode": 0,
                         "argstr": '"/nonexistent/x", O_RDONLY|O_CLOEXEC'}
    write_vars = traced[2][3]
    assert write_vars["buf_str"] == '"hi\\n"' and write_vars["count"] == 3
    assert set(write_vars) == {"name", "fd", "buf_uaddr", "count", "buf_str", "argstr"}


class _NoMem:
    def read(self, addr: int, n: int) -> bytes:
        raise OSError(14, "EFAULT")


def test_formats_without_memory() -> None:
    m = _NoMem()
    s = alias_spec("open", False)
    assert s.numbers == (2,)
    v = s.values(2, (0, 0o1101, 0o644), None, m)
    assert v["argstr"] == "NULL, O_WRONLY|O_CREAT|O_TRUNC, 0644"
    v = s.values(2, (0x1000, 0o4010000 | 2), None, m)
    assert v["argstr"] == "0x1000, O_RDWR|O_SYNC"
    assert alias_spec("read", True).values(0, (), -9, m)["retstr"] == "-9 (EBADF)"
    assert alias_spec("brk", True).values(12, (), 0x55d000, m)["retstr"] == "5623808"
    assert alias_spec("kill", False).values(62, (5, 29), None, m)["argstr"] == "5, SIGIO/SIGPOLL"
    assert alias_spec("socket", False).values(41, (10, 2 | 0o4000, 0), None, m)["argstr"] == \
        "PF_INET6, SOCK_DGRAM|SOCK_NONBLOCK, IPPROTO_IP"
    assert alias_spec("mmap2", False).values(9, (0, 1, 0, 0x40022 | (21 << 26), -1, 0), None, m)["flags_str"] \
        == "MAP_HUGE_2MB|MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB"


def test_resolution() -> None:
    assert [s.pp for s in resolve_alias("open*")] == ["syscall.open", "syscall.open_by_handle_at", "syscall.openat"]
    assert resolve_alias("pread")[0].numbers == (NAME_TO_NR["pread64"],)
    assert resolve_alias("fstatat")[0].numbers == (NAME_TO_NR["newfstatat"],)
    assert resolve_alias("getdents")[0].numbers == (NAME_TO_NR["getdents"], NAME_TO_NR["getdents64"])
    assert resolve_alias("close", True)[0].variables == {"name": "string", "retval": "long", "retstr": "string"}
    assert len(resolve_alias("*")) == len(set(STAP_ALIASES)) >= 390
    gen = resolve_alias("fdatasync")[0]      # not decoded: raw registers
    assert gen.call.generic and gen.values(75, (3,), None, _NoMem())["argstr"].startswith("0x3, 0x0")
    with pytest.raises(AliasError):
        resolve_alias("nosuch")


def _p(script: str, *opts: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uprobe_py", *opts, "-e", script], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_family_prebinds_alias_locals() -> None:
    r = _p('probe syscall.open, syscall.close.return { printf("%s(%s) %d\\n", name, argstr, flags) }', "-p3")
    assert r.returncode == 0, r.stderr
    assert "l_argstr, l_flags, l_name, = sc_0(c)" in r.stdout
    assert "l_name, = sc_1(c)" in r.stdout          # .return: flags/argstr are plain unset locals
    r = _p("probe syscall.nosuch { println(argstr) }", "-p2")
    assert r.returncode == 1
    assert "semantic error: while resolving probe point: identifier 'syscall' at <input>:1:7" in r.stderr
    assert "semantic error: probe point mismatch" in r.stderr


def test_binder_reads_ctx_extra() -> None:
    from uprobe_py.syscalls.decode import MemCtx

    class Ctx(MemCtx):
        __slots__ = ("extra",)
    ctx = Ctx(_NoMem())
    ctx.extra = {"syscall": (3, (7, 0, 0, 0, 0, 0), None)}
    assert alias_spec("close", False).binder(["name", "argstr", "fd"])(ctx) == ("close", "7", 7)


TAPSET = Path("/usr/share/systemtap/tapset/linux")


@pytest.mark.skipif(not TAPSET.is_dir(), reason="SystemTap's tapset is not installed")
def test_variables_include_stap_register_args() -> None:
    """Every variable stap's register-argument path assigns (its _REGARGS macro) is one of ours."""
    import re
    from uprobe_py.syscalls.decode import CALLS, variables_of
    for alias, spec in CALLS.items():
        files = list(TAPSET.glob(f"sysc_{alias}.stp")) + list(TAPSET.glob(f"x86_64/sysc_{alias}.stp"))
        if not files:
            continue
        text = files[-1].read_text()
        m = re.search(r"@define _SYSCALL_%s_REGARGS\s*%%\(" % alias.upper(), text)
        if not m:
            continue
        depth, i = 1, m.end()                     # the macro body, nested %( %) included
        while depth:
            depth += {"%(": 1, "%)": -1}.get(text[i:i + 2], 0)
            i += 1
        # old-version compatibility branches (systemtap_v <= "2.x") are not in stap 4.8's aliases
        body = re.sub(r"%\(\s*systemtap_v\s*<=.*?%\?(.*?)(%:(.*?))?%\)", r"\3", text[m.end():i - 1],
                      flags=re.S)
        body = re.sub(r"%\(.*?%\?(.*?)(%:.*?)?%\)", r"\1", body, flags=re.S)
        theirs = {x for x in re.findall(r"(?m)^\s*(\w+)\s*=", body) if not x.startswith("__")}
        assert theirs <= set(variables_of(spec, False)), alias


@pytest.fixture(scope="module")
def traced2(tmp_path_factory: pytest.TempPathFactory) -> list:
    if not build.available():
        pytest.skip("no C compiler")
    ok, why = pt.ptrace_permitted()
    if not ok:
        pytest.skip(why)
    exe = compile_target("syscalls2", tmp_path_factory.mktemp("sc2") / "syscalls2", "-O0")
    return _trace(str(exe))


def test_second_set_argstr_and_retstr(traced2: list) -> None:
    """targets/syscalls2.c: futex, signals, pipe2, epoll, clocks, rlimits, sockopts, ... as stap prints them."""
    got = {}
    for a, s, r, v in traced2:
        got.setdefault(a, []).append((s, r, v))
    (wake, _, wv), (wait, wr, _) = got["futex"]
    assert wake.endswith(", FUTEX_WAKE_PRIVATE, 1") and wake.startswith("0x")
    assert wait == wake.replace("FUTEX_WAKE_PRIVATE, 1", "FUTEX_WAIT, 1, [0.000005000]") and wr == "-11 (EAGAIN)"
    assert set(wv) == {"name", "futex_uaddr", "op", "val", "utime_uaddr", "uaddr2_uaddr", "val3", "argstr"}
    assert got["rt_sigaction"][0][:2] == ("SIGUSR1, {SIG_IGN}, 0x0, 8", "0")
    assert got["rt_sigprocmask"][0][:2] == ("SIG_BLOCK, [SIGINT|SIGTERM], 0x0, 8", "0")
    s, r, v = got["pipe"][0]
    assert v["name"] == "pipe2" and v["flag_str"] == "O_NONBLOCK|O_CLOEXEC" and r == "0"
    assert s == "[0, 0], O_NONBLOCK|O_CLOEXEC" or s.endswith("], O_NONBLOCK|O_CLOEXEC")
    s, r, _ = got["fcntl"][0]
    assert s.endswith(", F_GETFL, 0x0") and r == "2048"
    s, ep, v = got["epoll_create"][0]
    assert (s, v["name"]) == ("EPOLL_CLOEXEC", "epoll_create1")
    s, r, _ = got["epoll_ctl"][0]
    assert s.startswith(ep + ", EPOLL_CTL_ADD, ") and r == "0"
    s, r, _ = got["epoll_wait"][0]
    assert s.startswith(ep + ", 0x") and s.endswith(", 1, 0") and r == "0"
    assert got["clock_nanosleep"][0][:2] == ("CLOCK_MONOTONIC, 0x0, [0.000005000], 0x0", "0")
    assert got["prlimit64"][0][:2] == ("0, RLIMIT_NOFILE, [1024,4096], 0x0", "0")
    assert got["madvise"][0][:2] == ("0x0, 0, MADV_DONTNEED", "0")
    assert got["unlinkat"][0][:2] == ('AT_FDCWD, "/nonexistent/y", AT_REMOVEDIR', "-2 (ENOENT)")
    assert got["renameat2"][0][:2] == ('AT_FDCWD, "/nonexistent/a", AT_FDCWD, "/nonexistent/b", RENAME_NOREPLACE',
                                       "-2 (ENOENT)")
    sock = got["socket"][0][1]
    s, r, _ = got["setsockopt"][0]
    assert s.startswith(sock + ", SOL_SOCKET, SO_REUSEADDR, 0x") and s.endswith(", 4") and r == "0"
    assert got["umask"][0][0] == "022"


def test_second_set_formats_without_memory() -> None:
    m = _NoMem()
    assert alias_spec("clone", False).values(56, (0x1200011, 0, 0, 0x7f00), None, m)["argstr"] == \
        "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, 0x0, 0x0, 0x7f00"
    assert alias_spec("futex", False).values(202, (0x10, 4, 1, 2, 0x20, 7), None, m)["argstr"] == \
        "0x10, FUTEX_CMP_REQUEUE, 1, 2, 0x20, 7"
    assert alias_spec("futex", False).values(202, (0x10, 5, 1, 1, 0x20, 0x04000001), None, m)["argstr"] == \
        "0x10, FUTEX_WAKE_OP, 1, 1, 0x20, {FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1}"
    assert alias_spec("umask", True).values(95, (0o22,), 0o22, m)["retstr"] == "022"
    assert alias_spec("pipe", False).values(22, (0,), None, m)["argstr"] == "NULL"
    v = alias_spec("epoll_create", False).values(291, (0,), None, m)
    assert (v["name"], v["argstr"]) == ("epoll_create", "0")
    assert alias_spec("arch_prctl", False).values(158, (0x1002, 16), None, m)["argstr"] == "ARCH_SET_FS, 16"
    assert alias_spec("arch_prctl", False).values(158, (7, 16), None, m)["argstr"] == "7, 16"
    assert alias_spec("getsockopt", False).values(55, (3, 6, 1, 0, 0), None, m)["argstr"] == \
        "3, SOL_TCP, SO_DEBUG, 0x0, 0x0"
    assert alias_spec("mremap", True).values(25, (), 0x7f0000, m)["retstr"] == "0x7f0000"
    assert alias_spec("chown", False).values(92, (0, 0xFFFFFFFF, 5), None, m)["argstr"] == "NULL, -1, 5"
    assert alias_spec("eventfd", False).values(290, (3, 0o4000), None, m)["argstr"] == "3, EFD_NONBLOCK"
    assert alias_spec("timerfd_settime", False).values(286, (4, 1, 0, 0), None, m)["argstr"] == \
        "4, TFD_TIMER_ABSTIME, NULL, 0x0"
