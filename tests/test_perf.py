"""perf.* probe points and timer.profile (uprobe_py/probes/perf.py, _native/perf.c).

Resolution is checked against the real stap 4.8 (`stap-oracle -p2`, with a private kernel
build tree whose Module.symvers exports perf_event_create_kernel_counter, which is what
stap checks before it accepts perf probes). The run-time tests sample for real with
perf_event_open on targets/perfwork.c, whose behaviour is known: `faults N` writes to N
fresh pages from faults() (N page faults there, exactly), `spin MS` burns CPU in spin().
"""
from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_process_resolve import oracle  # noqa: E402
from test_process_resolve import run as run_cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# --- resolution: -p2 equal to stap's ------------------------------------------------------------

@pytest.fixture(scope="module")
def kbuild(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernel build tree for `stap -r`: the running kernel's config, its release, and the one
    export stap's perf probes need."""
    d = tmp_path_factory.mktemp("kbuild")
    cfg = Path(f"/lib/modules/{os.uname().release}/build/.config")
    if cfg.exists():
        text = cfg.read_text()
    else:
        r = subprocess.run(["sh", "-c", "zcat /proc/config.gz"], capture_output=True, text=True)
        text = r.stdout or "CONFIG_PERF_EVENTS=y\n"
    (d / ".config").write_text(text)
    (d / "Module.symvers").write_text("0x00000000\tperf_event_create_kernel_counter\tvmlinux\tEXPORT_SYMBOL_GPL\t\n")
    (d / "include" / "config").mkdir(parents=True)
    (d / "include" / "config" / "kernel.release").write_text(os.uname().release + "\n")
    return d


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def stap_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if "Kernel function symbol table missing" not in ln
            and not ln.startswith("Tip:")]


RESOLVED = [
    "perf.sw.cpu_clock", "perf.sw.task_clock.sample(5000)", "perf.sw.page_faults.hz(100)",
    "perf.sw.*", "perf.hw.*", "perf.hw_cache.*.*.*", "perf.hw_cache.ndoe.write.miss", "perf.*.cpu_clock",
    "perf.type(1).config(2)", "perf.type(1).config(2).sample(1)", "perf.type(1).config(0).hz(0)",
    "perf.type(-1).config(0x10)", "perf.type(1).config(0).sample(0x7fffffffffffffff)",
    'perf.type(1).config(0).process("ls")', 'perf.hw.cpu_cycles.process("/bin/ls")',
    'perf.type(1).config(0).process("/nonexist")', "timer.profile.freq.hz(100)",
]
REJECTED = [
    "perf", "perf.sw", "perf.foo", "perf.sw.foo", "perf.hw_cache.l1d", "perf.hw_cache.l1d.read.foo",
    "perf.hw_cache.node.write.miss", "perf.type(1)", 'perf.type("a").config(2)', 'perf.type(1).config("x")',
    "perf.type(1).foo(1)", "perf.type(1).config(0).sample(0)", "perf.type(1).config(2).sample(-3)",
    "perf.sw.page_faults.process.sample(1)", "perf.sw.page_faults.sample(1).process",
    "perf.type(1).config(2).process.sample(1)", "perf.type(1).config(2).sample(5).hz(100)",
    'perf.type(1).config(2).hz(10).process("/bin/ls")', "perf.type(1).config(2).process(123)",
    'perf.type(1).config(2).process.counter("a")', "perf.sw.cpu_clock.foo", "perf.type(1).config(2).process",
    "timer.profile.tick", "timer.profile.foo", "timer.profile.freq.hz(5).process",
]


@pytest.mark.parametrize("point", RESOLVED + REJECTED)
def test_p2_equals_stap(kbuild: Path, cache: Path, tmp_path: Path, point: str) -> None:
    script = f"probe {point} {{ print(1) }}"
    ref = oracle("-r", str(kbuild), "-p2", "-e", script, cwd=tmp_path)
    mine = run_cli("-p2", "-e", script, cache=cache, cwd=tmp_path)
    assert mine.stdout == ref.stdout
    assert stap_lines(mine.stderr) == stap_lines(ref.stderr)
    assert mine.returncode == ref.returncode


@pytest.mark.parametrize("point", ["perf.type(1).config(2).process", "perf.sw.cpu_clock.process"])
def test_p2_process_with_c_equals_stap(kbuild: Path, cache: Path, tmp_path: Path, point: str) -> None:
    script = f"probe {point} {{ print(1) }}"
    ref = oracle("-r", str(kbuild), "-p2", "-c", "/bin/true", "-e", script, cwd=tmp_path)
    mine = run_cli("-p2", "-c", "/bin/true", "-e", script, cache=cache, cwd=tmp_path)
    assert (mine.stdout, stap_lines(mine.stderr), mine.returncode) == \
        (ref.stdout, stap_lines(ref.stderr), ref.returncode)


def test_timer_profile_p2_tick_rate(cache: Path) -> None:
    """stap's fallback samples cpu-clock every 1 ms; here timer.profile samples at the
    kernel's tick rate (CONFIG_HZ), so only the period differs from stap's listing."""
    from uprobe_py.probes.perf import kernel_hz
    hz, _ = kernel_hz()
    mine = run_cli("-p2", "-e", "probe timer.profile { print(1) }", cache=cache)
    period = 1_000_000_000 // hz
    assert mine.stdout == (f"# probes\nperf.type(1).config(0).sample({period}) "
                           f"/* <- perf.type(1).config(0).sample({period}) */\n")


# --- run time -----------------------------------------------------------------------------------

def _perf_reason() -> str:
    if sys.platform != "linux":
        return "perf_event_open is Linux only"
    try:
        from uprobe_py._native._perf import lib
    except ImportError as e:
        return f"the _perf extension is not built ({e}): pip install -e ."
    fd = lib.up_perf_open(1, 0, 1000000, 0, -1, 0, 0, 0, 0)
    if fd < 0:
        return f"system-wide software perf events are refused here ({errno.errorcode.get(-fd, -fd)})"
    os.close(fd)
    from shutil import which
    if which("gcc") is None:
        return "gcc is not installed"
    return ""


REASON = _perf_reason()
live = pytest.mark.skipif(bool(REASON), reason=REASON or "-")


@pytest.fixture(scope="module")
def perfwork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if REASON:
        pytest.skip(REASON)
    out = tmp_path_factory.mktemp("perfwork") / "perfwork"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(out), str(ROOT / "targets" / "perfwork.c")],
                   check=True, capture_output=True)
    return out


def run(cache: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cache=cache)


@live
@pytest.mark.parametrize("n", [1000, 4000])
def test_page_faults_exact(perfwork: Path, cache: Path, n: int) -> None:
    """sample(1): one handler run per page fault; the faults in faults() are exactly N (the
    fresh pages), the target's total is N plus its start-up's."""
    script = ('global all, mine; probe perf.sw.page_faults.sample(1) { if (pid() == target()) { all++; '
              'if (usymname(uaddr()) == "faults") mine++ } } '
              'probe end { printf("%d %d\\n", all, mine) }')
    r = run(cache, "-c", f"{perfwork} faults {n} sleep 100", "-e", script)
    assert r.returncode == 0, r.stderr
    all_, mine = map(int, r.stdout.split())
    assert mine == n
    assert n <= all_ <= n + 400


def _cpu_ms(out: str) -> tuple[float, list[str]]:
    """The target's own CPU time (its `cputime` line) and the script's output lines."""
    lines = out.splitlines()
    got = [float(ln.split("=")[1]) for ln in lines if ln.startswith("cpu_ms=")]
    assert len(got) == 1, out
    return got[0], [ln for ln in lines if not ln.startswith("cpu_ms=")]


@live
@pytest.mark.parametrize("point", ["perf.sw.cpu_clock.process", "perf.sw.task_clock.process",
                                   "perf.sw.cpu_clock.sample(1000000)"])
def test_cpu_clock_count(perfwork: Path, cache: Path, point: str) -> None:
    """1 ms sampling (the default period, or sample(1000000) system-wide with a pid filter) of a
    CPU-bound -c target spinning for 0.5 s: one sample per ms of the CPU time it reports itself,
    nearly all in spin()."""
    script = ('global n, s; probe %s { if (pid() != target()) next; n++; '
              'if (usymname(uaddr()) == "spin") s++ } '
              'probe end { printf("%%d %%d\\n", n, s) }') % point
    r = run(cache, "-c", f"{perfwork} spin 500 cputime 0 sleep 50", "-e", script)
    assert r.returncode == 0, r.stderr
    cpu_ms, rest = _cpu_ms(r.stdout)
    n, s = map(int, rest[0].split())
    assert cpu_ms * 0.85 - 5 <= n <= cpu_ms * 1.1 + 5, (n, cpu_ms)
    assert 150 <= n <= 560
    assert s >= 0.9 * n - 5


@live
def test_timer_profile(perfwork: Path, cache: Path) -> None:
    """timer.profile fires on every CPU at CONFIG_HZ with the interrupted context: the busy
    target's samples are in user mode, in spin(), on CPUs that exist."""
    from uprobe_py.probes.perf import kernel_hz, online_cpus
    hz, _ = kernel_hz()
    script = ('global n, bad_cpu, user, s; '
              'probe timer.profile { if (pid() != target()) next; n++; '
              'if (cpu() < 0 || cpu() > %d) bad_cpu++; '
              'if (user_mode()) { user++; if (usymname(uaddr()) == "spin") s++ } } '
              'probe end { printf("%%d %%d %%d %%d\\n", n, bad_cpu, user, s) }') % max(online_cpus())
    r = run(cache, "-c", f"{perfwork} spin 500 sleep 50", "-e", script)
    assert r.returncode == 0, r.stderr
    n, bad_cpu, user, s = map(int, r.stdout.split())
    expect = hz * 0.5
    assert 0.6 * expect <= n <= 1.15 * expect + 2
    assert bad_cpu == 0
    assert user >= 0.9 * n - 2 and s >= 0.9 * user - 2


@live
def test_timer_profile_uaddr_in_target_text(perfwork: Path, cache: Path) -> None:
    """uaddr() of the busy target's samples lies in its executable's mapping (/proc/PID/maps);
    the rest are in the vDSO's clock_gettime (no module: umodname's error)."""
    script = ('global inside, outside; probe timer.profile { if (pid() != target() || !user_mode()) next; '
              'try { m = umodname(uaddr()) } catch { m = "" } if (m == "%s") inside++; else outside++ } '
              'probe end { printf("%%d %%d\\n", inside, outside) }') % perfwork
    r = run(cache, "-c", f"{perfwork} spin 400 sleep 50", "-e", script)
    assert r.returncode == 0, r.stderr
    inside, outside = map(int, r.stdout.split())
    assert inside >= 50 and outside <= inside // 10 + 2


@live
def test_execname_pid_tid(perfwork: Path, cache: Path) -> None:
    script = ('global e; probe perf.sw.cpu_clock.process { if (tid() == pid() && pid() == target()) '
              'e[execname()]++ } probe end { foreach (k in e) printf("%s\\n", k) }')
    r = run(cache, "-c", f"{perfwork} spin 200 sleep 50", "-e", script)
    assert r.returncode == 0, r.stderr
    # a tick may land in the forked child before its exec, where execname() is still the
    # launcher's (stap's stapio window is the same); the spinning program is what counts
    lines = r.stdout.splitlines()
    assert "perfwork" in lines and len(lines) <= 2, r.stdout


# --- hardware events: they count where the PMU has them, else a clear start-up error ---------------

HW_ALIASES = ["cpu_cycles", "instructions", "cache_references", "cache_misses", "branch_instructions",
              "branch_misses", "bus_cycles", "stalled_cycles_frontend", "stalled_cycles_backend",
              "ref_cpu_cycles"]


def _hw_errno(config: int, type_: int = 0) -> int:
    from uprobe_py._native._perf import lib
    fd = lib.up_perf_open(type_, config, 1000000, 0, -1, 0, 0, 0, 0)
    if fd >= 0:
        os.close(fd)
        return 0
    return -fd


@live
@pytest.mark.parametrize("alias", HW_ALIASES)
def test_hw_alias(perfwork: Path, cache: Path, alias: str) -> None:
    from uprobe_py.probes.perf import HW
    err = _hw_errno(HW[alias])
    script = (f'global n; probe perf.hw.{alias}.process {{ n++ }} '
              'probe end { printf("%d\\n", n) }')
    r = run(cache, "-c", f"{perfwork} spin 200", "-e", script)
    if err:
        name = errno.errorcode.get(err, str(err))
        assert r.returncode == 1
        first = r.stderr.splitlines()[0]
        assert first.startswith(f"ERROR: perf probe perf.hw.{alias}.process (perf.type(0).config({HW[alias]})"), first
        assert f"perf_event_open failed: {name}" in first
        assert "PERF_TYPE_HARDWARE" in first
        pytest.skip(f"perf.hw.{alias}: this machine's PMU refuses it ({name}); the start-up error is checked")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) >= 0


@live
def test_hw_cache_error_or_count(perfwork: Path, cache: Path) -> None:
    err = _hw_errno(0x10000, 3)
    r = run(cache, "-c", f"{perfwork} spin 100", "-e",
            'global n; probe perf.hw_cache.l1d.read.miss.process { n++ } probe end { printf("%d\\n", n) }')
    if err:
        assert r.returncode == 1 and "PERF_TYPE_HW_CACHE" in r.stderr, r.stderr
        pytest.skip(f"perf.hw_cache.l1d.read.miss: refused here ({errno.errorcode.get(err)})")
    assert r.returncode == 0, r.stderr


@live
def test_unknown_software_config_fails_at_start(cache: Path) -> None:
    r = run(cache, "-e", "probe perf.type(1).config(99) { print(1) } probe begin { print(2) }")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("ERROR: perf probe perf.type(1).config(99) (perf.type(1).config(99).sample(1000000)): "
                               "perf_event_open failed: ENOENT")


# --- permissions and cleanup ---------------------------------------------------------------------------

def test_unprivileged_system_wide_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root and with perf_event_paranoid > 0, a system-wide probe is refused with the
    probe, what it needs, and the current setting."""
    from uprobe_py.probes import perf as P
    monkeypatch.setattr(P, "_privileged", lambda: False)
    monkeypatch.setattr(P, "perf_paranoid", lambda: 2)
    errors: list[str] = []

    class Sess:
        target_pid = 0
        exit_requested = False

        def create_target(self) -> None:
            pass

        def stop_target(self) -> None:
            pass

        def report_error(self, e: object) -> None:
            errors.append(str(getattr(e, "msg", e)))

        def request_exit(self) -> None:
            self.exit_requested = True

    class Probe:
        def __init__(self, spec: object) -> None:
            self.spec = spec
            self.pp = spec.pp             # type: ignore[attr-defined]

    spec = P.PerfFamily()._suffix(1, 0, [], alias=False)
    eng = P.PerfEngine(Sess(), [Probe(spec)], lambda p: None)
    eng.open_all()
    assert len(errors) == 1
    assert "samples every CPU system-wide" in errors[0]
    assert "needs root (CAP_PERFMON) or kernel.perf_event_paranoid <= 0" in errors[0]
    assert "perf_event_paranoid is 2" in errors[0]
    assert eng.events == []


@live
def test_fds_closed_on_exit_paths(cache: Path) -> None:
    """The engine closes every event and ring it opened: after exit() in begin (the loop never
    runs), after a start-up error, and after a normal run."""
    code = r'''
import os, sys
from uprobe_py.cli import main
def fds():
    return sorted(int(f) for f in os.listdir("/proc/self/fd"))
before = fds()
for script in ("probe perf.sw.cpu_clock { } probe begin { exit() }",
               "probe perf.type(1).config(99) { }",
               "probe perf.sw.cpu_clock { } probe timer.ms(50) { exit() }"):
    main(["-e", script])
leaked = [f for f in fds() if f not in before]
links = [os.readlink("/proc/self/fd/%d" % f) for f in leaked if os.path.exists("/proc/self/fd/%d" % f)]
print("perf" if any("perf_event" in l for l in links) else "clean")
'''
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout.splitlines()[-1] == "clean", r.stdout + r.stderr


def test_kernel_hz() -> None:
    from uprobe_py.probes.perf import kernel_hz
    hz, why = kernel_hz()
    assert hz in (100, 250, 300, 1000)
    assert why is None or "250" in why

