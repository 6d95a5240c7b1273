"""Backtraces and user-space symbols (builtins/fn_ustack.py, elf/unwind.py,
runtime/process_maps.py) on targets/ustack.c: main -> a -> b -> c, and qsort calling
cmp (frames inside libc), at -O0 and -O2, PIE and not. Every frame is checked against
the binary itself: its symbol and offset, the symbol's size as stap computes it (the
distance to the next FUNC/OBJECT symbol), and, above the probed frame, that the
instruction before the address is a call (a real return address)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from ptrace_support import REASON, build, run, untraced

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

LIBC = re.compile(r"/libc\.so\.6$|/libc-[0-9.]+\.so$")
FULL = re.compile(r"^ 0x([0-9a-f]+) : (\S+)\+0x([0-9a-f]+)/0x([0-9a-f]+) \[(\S+)\]$")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ustack-targets")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def symbols(path: str) -> tuple[dict[str, int], list[int]]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".symtab")
        by_name, addrs = {}, set()
        for s in sec.iter_symbols():
            if s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s["st_shndx"] not in ("SHN_UNDEF", "SHN_ABS") \
                    and s.name:
                by_name[s.name] = s["st_value"]
                addrs.add(s["st_value"])
        return by_name, sorted(addrs)


def code_at(path: str, vaddr: int, n: int) -> bytes:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= vaddr < seg["p_vaddr"] + seg["p_filesz"]:
                f.seek(seg["p_offset"] + vaddr - seg["p_vaddr"])
                return f.read(n)
    return b""


def check_frames(lines: list[str], app: Path) -> list[str]:
    """Check each own-binary frame against the ELF; return the frames' symbol names."""
    by_name, addrs = symbols(str(app))
    names = []
    bias = None
    for k, ln in enumerate(lines):
        m = FULL.match(ln)
        assert m, ln
        addr, name, off, size, path = int(m[1], 16), m[2], int(m[3], 16), int(m[4], 16), m[5]
        names.append(name if not LIBC.search(path) else "<libc>")
        if path != os.path.realpath(app):
            continue
        if bias is None:
            bias = addr - off - by_name[name]
        vaddr = addr - bias
        assert vaddr - off == by_name[name], ln
        nxt = [a for a in addrs if a > by_name[name]]
        assert size == (nxt[0] - by_name[name] if nxt else 0), ln
        if k > 0:
            # a call just before the return address: call rel32, or call *disp32(%rip)
            assert code_at(str(app), vaddr - 5, 1) == b"\xe8" or code_at(str(app), vaddr - 6, 2) == b"\xff\x15", ln
    return names


SCRIPT = ('probe process.function("c") { print_ubacktrace() println("--") print_ubacktrace_brief() '
          'println("--") print(sprint_ubacktrace()) println("--") println(ubacktrace(), "|") '
          'println(ucallers(3)) println(ustack(0) == uaddr(), " ", usymname(ustack(1)), " ", '
          'umodname(uaddr()) == @1, " ", usymdata(uaddr())) }')


@pytest.mark.parametrize("variant", ["O0", "O2", "nopie", "O2-nopie"])
def test_backtrace_main_a_b_c(outdir: Path, cache_home: Path, variant: str) -> None:
    app = build.build("ustack", variant, outdir)
    want_out, want_rc = untraced([str(app)])
    real = os.path.realpath(app)
    out, err, status = run(str(app), SCRIPT.replace("@1", f'"{real}"'), cache_home)
    assert status == want_rc and want_out in out, err
    got = out.replace(want_out, "").split("--\n")
    full = got[0].splitlines()
    names = check_frames(full, app)
    assert names[:4] == ["c", "b", "a", "main"] and names[-1] == "_start", full
    assert "<libc>" in names[4:-1]
    brief = got[1].splitlines()
    assert brief == [re.sub(r"^ 0x[0-9a-f]+ : (\S+\+0x[0-9a-f]+)/.*$", r"\1", ln) for ln in full]
    simple = got[2].splitlines()
    assert simple == [re.sub(r"^ 0x[0-9a-f]+ : (\S+\+0x[0-9a-f]+)/\S+ \[(\S+)\]$",
                             lambda m: f"{m[1]} [{os.path.basename(m[2])}]", ln) for ln in full]
    rest = got[3].splitlines()
    hexes = [ln.split()[0] for ln in full]
    assert rest[0] == " ".join(hexes) + " |"            # each address followed by a space
    assert rest[1] == " ".join(hexes[:4])
    sym, off = full[0].split(" : ")[1].split(" ")[0].split("+")
    assert rest[2] == f"1 b 1 {sym}+{off} [{real}]"


def test_frames_in_libc_from_a_qsort_comparator(outdir: Path, cache_home: Path) -> None:
    app = build.build("ustack", "O2", outdir)
    want_out, _ = untraced([str(app)])
    out, err, _ = run(str(app), 'probe process.function("cmp") { print_ubacktrace() print_ustack(ucallers(-1)) '
                      'exit() }', cache_home)
    lines = out.replace(want_out, "").splitlines()
    half = len(lines) // 2
    assert lines[:half] == lines[half:], out          # print_ustack(ucallers(-1)) == print_ubacktrace()
    names = check_frames(lines[:half], app)
    assert names[0] == "cmp" and names[1] == "<libc>", lines
    assert names[names.index("main") - 1] == "<libc>" and names[-1] == "_start", lines


def test_return_probe_backtrace(outdir: Path, cache_home: Path) -> None:
    app = build.build("ustack", "O0", outdir)
    want_out, _ = untraced([str(app)])
    out, err, _ = run(str(app), 'probe process.function("b").return { print_ubacktrace() }', cache_home)
    lines = out.replace(want_out, "").splitlines()
    assert lines[0].startswith("Returning from:  0x") and re.search(r" : b\+0x0/0x[0-9a-f]+ \[", lines[0]), lines
    assert lines[1].startswith("Returning to  :  0x") and " : a+0x" in lines[1], lines
    names = check_frames([lines[1][len("Returning to  : "):]] + lines[2:], app)
    assert names[:2] == ["a", "main"]


def test_no_user_backtrace_outside_process_probes(cache_home: Path) -> None:
    import subprocess
    import sys
    from ptrace_support import ROOT
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "uprobe_py", "-e",
                        'probe begin { print_ubacktrace() println(sprint_ubacktrace(), "|", ubacktrace(), "|") '
                        'exit() }'], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout == "<no user backtrace at begin>\n<no user backtrace at begin>\n|\n|\n", r.stderr


def test_print_regs_and_probemod(outdir: Path, cache_home: Path) -> None:
    app = build.build("ustack", "O0", outdir)
    want_out, _ = untraced([str(app)])
    out, err, _ = run(str(app), 'probe process.function("c") { print_regs() printf("%x %x\\n", register("rip"), '
                      'register("rdi")) probemod() }', cache_home)
    lines = out.replace(want_out, "").splitlines()
    rip, rdi = lines[-1].split()
    assert lines[0] == "RIP: %016x" % int(rip, 16)
    assert re.match(r"^RSP: [0-9a-f]{16}  EFLAGS: [0-9a-f]{8}$", lines[1])
    assert lines[3].endswith("RDI: %016x" % int(rdi, 16))
    assert [ln[:4] for ln in lines[:9]] == ["RIP:", "RSP:", "RAX:", "RDX:", "RBP:", "R10:", "R13:", "FS: ", "CS: "]
    assert lines[9].startswith("CR2: ")
    assert "ERROR: Cannot determine kernel module name near identifier 'probemod'" in err
