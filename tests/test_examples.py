"""Every script in examples/ runs and prints exactly examples/expected/NAME.out.

A few examples take arguments; they are listed here. The examples are documentation:
they must keep working (the pyelftools lesson). The examples that trace a program
(memleak, strace, calls, latency) run on targets/ programs with known behaviour below;
their times, pids and addresses are masked.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.stp") if (ROOT / "examples" / "expected" / f"{p.stem}.out").exists())
ARGS = {"wordcount": ["the cat and the dog and the bird"]}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example(script: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "uprobe_py", str(script.relative_to(ROOT)),
                        *ARGS.get(script.stem, [])], cwd=ROOT, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    want = (ROOT / "examples" / "expected" / f"{script.stem}.out").read_bytes()
    assert r.stdout == want


# --- examples that trace a program ------------------------------------------------------------

import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, compile_target  # noqa: E402

traced = pytest.mark.skipif(bool(REASON), reason=REASON or "-")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("example-targets")
    got = {}
    for name, flags in (("leaky", ["-g", "-O0"]), ("calltree", ["-g", "-O0"]), ("sleeper", ["-g", "-O0"]),
                        ("syscalls", ["-g", "-O1"]), ("family", ["-g", "-O1", "-pthread"])):
        got[name] = compile_target(name, out / name, *flags)
    got["cache"] = out / "cache"
    return got


def trace(apps: dict[str, Path], cmd: str, script: str, *args: str) -> str:
    """stdout of `uprobe-py -c CMD examples/SCRIPT ARGS` (exit status 0, nothing on stderr)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(apps["cache"]))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "uprobe_py", "-c", cmd, f"examples/{script}", *args], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=120)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    return r.stdout


def memleak_reports(out: str) -> list[list[tuple[int, int, list[str]]]]:
    """Each report: (bytes, allocations, frames) per stack, in printed order."""
    reports: list[list[tuple[int, int, list[str]]]] = []
    for line in out.splitlines():
        if re.fullmatch(r"\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] Top 10 stacks with outstanding allocations:",
                        line):
            reports.append([])
        elif m := re.fullmatch(r"\t(\d+) bytes in (\d+) allocations from stack", line):
            reports[-1].append((int(m[1]), int(m[2]), []))
        elif reports and reports[-1] and line:
            reports[-1][-1][2].append(line)
    return reports


@traced
def test_memleak_outstanding_bytes_per_call_site(apps: dict[str, Path]) -> None:
    """targets/leaky.c keeps 5 x malloc(100) from leak_small and 2 x calloc(16, 64) from
    leak_big, and frees all it allocates in churn() (malloc, realloc, calloc, free). With a
    1 s period and a 1.5 s run: the timer's report and the end's, each with exactly these two
    stacks from the target (libc's own stdout buffer may be a third), largest first."""
    out = trace(apps, f"{apps['leaky']} 1500", "memleak.stp", "1")
    assert out.startswith("leaky: 7 blocks kept\n")
    reports = memleak_reports(out)
    assert len(reports) == 2
    for rep in reports:
        mine = [(b, n, fr) for b, n, fr in rep if any(f.endswith(" [leaky]") for f in fr[:3])]
        assert [(b, n) for b, n, _ in mine] == [(2048, 2), (500, 5)]
        (_, _, big), (_, _, small) = mine
        assert re.fullmatch(r"(__libc_)?calloc\+0x0 \[libc\.so\.6\]", big[0])
        assert re.fullmatch(r"leak_big\+0x[0-9a-f]+ \[leaky\]", big[1])
        assert re.fullmatch(r"main\+0x[0-9a-f]+ \[leaky\]", big[2])
        assert re.fullmatch(r"(__libc_)?malloc\+0x0 \[libc\.so\.6\]", small[0])
        assert re.fullmatch(r"leak_small\+0x[0-9a-f]+ \[leaky\]", small[1])
        assert re.fullmatch(r"main\+0x[0-9a-f]+ \[leaky\]", small[2])
        assert not any("churn" in f for _, _, fr in rep for f in fr)
        assert [b for b, _, _ in rep] == sorted((b for b, _, _ in rep), reverse=True)


CALLTREE = """\
-> main
 -> setup
 <- setup
 -> run
  -> step
   -> leaf
   <- leaf
  <- step
  -> step
   -> leaf
   <- leaf
  <- step
  -> fact
   -> fact
    -> fact
    <- fact
   <- fact
  <- fact
 <- run
 -> teardown
 <- teardown
<- main
"""


def call_lines(out: str, exe: str) -> list[str]:
    """Lines of thread_indent(): `%6d NAME(TID):INDENT` with the time and tid checked and dropped."""
    got = []
    for line in out.splitlines():
        m = re.fullmatch(r" *(\d+) (\S+)\((\d+)\):( *[-<][->] \S+)", line)
        if m:
            assert m[2] == exe and len(line) - len(line.lstrip(" ")) + len(m[1]) >= 6
            got.append(m[4])
    return got


@traced
def test_calls_indented_tree(apps: dict[str, Path]) -> None:
    """Every function ('*'): main's subtree exactly (the C run-time's functions around main
    depend on the toolchain, so only main's part is compared, relative to main's depth)."""
    out = trace(apps, str(apps["calltree"]), "calls.stp", "*")
    assert out.startswith("calltree: 6\n")
    lines = call_lines(out, "calltree")
    start = next(i for i, ln in enumerate(lines) if ln.endswith("-> main"))
    end = next(i for i, ln in enumerate(lines) if ln.endswith("<- main"))
    depth = len(lines[start]) - len(lines[start].lstrip(" "))
    assert "".join(ln[depth:] + "\n" for ln in lines[start:end + 1]) == CALLTREE
    times = [int(ln.split()[0]) for ln in out.splitlines()[1:]]
    assert times[0] == 0 and times == sorted(times)


@traced
def test_calls_pattern_and_path(apps: dict[str, Path]) -> None:
    """A pattern and an explicit process("PATH"): the recursion of fact alone, whole output."""
    out = trace(apps, str(apps["calltree"]), "calls.stp", "fact", str(apps["calltree"]))
    assert out.startswith("calltree: 6\n")
    assert call_lines(out, "calltree") == [" -> fact", "  -> fact", "   -> fact", "   <- fact", "  <- fact",
                                           " <- fact"]
    assert len(out.splitlines()) == 7


@traced
def test_latency_histogram(apps: dict[str, Path]) -> None:
    """targets/sleeper.c: nap() 4 x 3 ms and 2 x 24 ms: 6 calls, 4 in the 2048 us bucket, 2 in 16384."""
    out = trace(apps, str(apps["sleeper"]), "latency.stp", "nap")
    lines = out.splitlines()
    assert lines[0] == "sleeper: 6 naps"
    m = re.fullmatch(r"nap: 6 calls, min (\d+) us, avg (\d+) us, max (\d+) us", lines[1])
    assert m and 3000 <= int(m[1]) < 4096 and 24000 <= int(m[3]) < 32768
    assert lines[2] == "value |-------------------------------------------------- count"
    counts = {int(v): int(c) for v, c in (re.fullmatch(r" *(\d+) \|[@ ]* (\d+)", ln).groups() for ln in lines[3:]
                                          if ln)}
    assert sum(counts.values()) == 6
    assert counts[2048] == 4 and counts[16384] == 2


def strace_calls(apps: dict[str, Path], cmd: list[str]) -> list[tuple[int, str]]:
    """(pid, name) per call of `strace -f` on the same program (mmap as stap names it: mmap2)."""
    log = apps["cache"].parent / "strace.log"
    subprocess.run(["strace", "-f", "-qq", "-o", str(log), *cmd], capture_output=True, check=False)
    got = []
    for line in log.read_text().splitlines():
        m = re.match(r"(\d+) +(\w+)\(", line)
        if m:
            got.append((int(m[1]), "mmap2" if m[2] == "mmap" else m[2]))
    return got


STRACE_LINE = re.compile(r"(\w+)\[(\d+)\] (\w+)\((.*)\) = (.*)")


@traced
def test_strace_lines(apps: dict[str, Path]) -> None:
    """targets/syscalls.c: from its getpid() marker on, the same calls in the same order as
    `strace -f`, and the exact lines of the calls whose arguments are numbers."""
    out = trace(apps, str(apps["syscalls"]), "strace.stp")
    # execve's argstr holds the environment, cut at MAXSTRINGLEN as stap cuts it (no closing paren)
    lines = [STRACE_LINE.fullmatch(ln) for ln in out.splitlines() if "] execve(" not in ln]
    assert all(lines), out
    pid = int(lines[0][2])
    assert {(m[1], int(m[2])) for m in lines} == {("syscalls", pid)}
    names = [m[3] for m in lines]
    mine = names[names.index("getpid"):]
    if shutil.which("strace"):
        theirs = [nm for _, nm in strace_calls(apps, [str(apps["syscalls"])])]
        assert mine == theirs[theirs.index("getpid"):]
    text = [ln.split("] ", 1)[1] for ln in out.splitlines()]
    for want in (f"getpid() = {pid}", "close(3) = 0",
                 "socket(PF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3",
                 "kill(0, SIG_0) = 0",
                 "lseek(0, -5, SEEK_END) = 0", "exit_group(3) = ?"):
        assert want in text
    assert text[-1] == "exit_group(3) = ?"


@traced
def test_strace_string_arguments(apps: dict[str, Path]) -> None:
    out = trace(apps, str(apps["syscalls"]), "strace.stp")
    text = [ln.split("] ", 1)[1] for ln in out.splitlines()]
    assert any(ln.startswith("execve(") and ln.endswith(" = 0") for ln in text)    # its exit, after the exec
    assert 'open("/nonexistent/x", O_RDONLY|O_CLOEXEC) = -2 (ENOENT)' in text
    assert 'write(3, "hi\\n", 3) = 3' in text
    assert 'unlink("/tmp/uprobe_py_sc.txt") = 0' in text


@traced
def test_strace_follows_the_target_s_children(apps: dict[str, Path]) -> None:
    """targets/family.c `fork 2 3`: the parent and its two children, as many write() calls
    per process as strace -f counts; `all` turns the filter off and changes nothing here."""
    cmd = [str(apps["family"]), "fork", "2", "3"]
    out = trace(apps, " ".join(cmd), "strace.stp")
    lines = [STRACE_LINE.fullmatch(ln) for ln in out.splitlines() if STRACE_LINE.fullmatch(ln)]
    pids = sorted({int(m[2]) for m in lines})
    assert len(pids) == 3
    writes = sorted(sum(1 for m in lines if int(m[2]) == p and m[3] == "write") for p in pids)
    if shutil.which("strace"):
        calls = strace_calls(apps, cmd)
        assert writes == sorted(sum(1 for p, nm in calls if p == q and nm == "write") for q in {p for p, _ in calls})
    assert all(n >= 1 for n in writes)
