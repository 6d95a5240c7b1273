"""`perf.*` probe points (and `timer.profile`) on perf_event_open sampling, and their engine.

Resolution follows stap 4.8 (`man 3stap stapprobes`, PERF; checked with the real stap's
-p2): `perf.type(T).config(C)` then at most one of `.sample(N)` (N > 0, default 1000000),
`.hz(F)`, `.process`, `.process("PATH")`, `.counter("NAME")`, `.process("PATH").counter("NAME")`;
the named points `perf.sw.*`, `perf.hw.*`, `perf.hw_cache.*.*.*` stand for a type/config pair
(the kernel's numbering, linux/perf_event.h) and take the same suffixes. A resolved point's
pp is `perf.type(T).config(C).sample(N)[.process("PATH")]` (`.hz(F)` shows as `.sample(F)`),
its -p2 derivation the point with the name replaced by its type/config.

At run time (PerfEngine) each probe opens one event per online CPU: system-wide (pid -1),
or, for `.process`, on the -c/-x target with `inherit` (its threads and children count too).
Events are opened, their ring buffers mapped and enabled before the -c command is let go
(so nothing it does is missed); samples wait in the rings until the loop reads them. The fds wake the
session's selector (wakeup_events = 1); samples are decoded in C (_native/perf.c), one call
per batch, and each fires the handler with the sampled pid/tid/cpu and, for a user-mode
sample, the user IP (uaddr(), usymname() through runtime/process_maps.py).
"""
from __future__ import annotations

import errno
import fnmatch
import os
from typing import Any, Callable, Optional

from ..lexer import Token
from ..runtime.cpus import online_cpus
from .registry import ProbeResolveError, ProbeSpec, register

DEFAULT_SAMPLE = 1_000_000
TYPE_NAMES = {0: "PERF_TYPE_HARDWARE", 1: "PERF_TYPE_SOFTWARE", 2: "PERF_TYPE_TRACEPOINT",
              3: "PERF_TYPE_HW_CACHE", 4: "PERF_TYPE_RAW", 5: "PERF_TYPE_BREAKPOINT"}

# the named points: (group, name) -> (type, config)
HW = {"cpu_cycles": 0, "instructions": 1, "cache_references": 2, "cache_misses": 3,
      "branch_instructions": 4, "branch_misses": 5, "bus_cycles": 6,
      "stalled_cycles_frontend": 7, "stalled_cycles_backend": 8, "ref_cpu_cycles": 9}
SW = {"cpu_clock": 0, "task_clock": 1, "page_faults": 2, "context_switches": 3,
      "cpu_migrations": 4, "page_faults_min": 5, "page_faults_maj": 6,
      "alignment_faults": 7, "emulation_faults": 8}
_CACHES = {"l1d": 0, "l1i": 1, "ll": 2, "dtlb": 3, "itlb": 4, "bpu": 5, "node": 6}
_OPS = {"read": 0, "write": 1, "prefetch": 2}
_RESULTS = {"access": 0, "miss": 1}
# the cache/op pairs stap 4.8's perf tapset names (l1i has no write; itlb and bpu read only);
# its node.write.miss is spelled "ndoe" there, so that is the name that exists
_CACHE_OPS = {"l1d": ("read", "write", "prefetch"), "l1i": ("read", "prefetch"),
              "ll": ("read", "write", "prefetch"), "dtlb": ("read", "write", "prefetch"),
              "itlb": ("read",), "bpu": ("read",), "node": ("read", "write")}


def _hw_cache_table() -> dict[tuple[str, str, str], int]:
    table = {}
    for cache, ops in _CACHE_OPS.items():
        for op in ops:
            for res, rv in _RESULTS.items():
                name = "ndoe" if (cache, op, res) == ("node", "write", "miss") else cache
                table[(name, op, res)] = _CACHES[cache] | (_OPS[op] << 8) | (rv << 16)
    return table


HW_CACHE = _hw_cache_table()


def _is_wild(name: str) -> bool:
    return any(c in name for c in "*?[")


def _similar(name: str, candidates: list[str]) -> str:
    """stap's suggestions here: the five nearest names, however far (ties alphabetically)."""
    from ..elaborate import edit_distance
    name = name.replace("*", "")
    best = [c for _d, c in sorted((edit_distance(name, c), c) for c in set(candidates))][:5]
    return f" (similar: {', '.join(best)})" if best else ""


def _follow(names: list[str]) -> str:
    return "probe point truncated (follow:  " + " ".join(sorted(names)) + ")"


def _num(c: Any) -> Optional[int]:
    return c.arg.value if c.arg is not None and isinstance(c.arg.value, int) else None


def _str(c: Any) -> Optional[str]:
    return c.arg.value if c.arg is not None and isinstance(c.arg.value, str) else None


def _target_exe() -> Optional[str]:
    """The program of the -c command (stap's find_executable of its first word) or of -x PID."""
    from . import process as P
    cmd = getattr(P, "_target_command", None)
    if cmd:
        import shlex
        try:
            words = shlex.split(cmd)
        except ValueError:
            words = cmd.split()
        return P.find_executable(words[0]) if words else None
    pid = getattr(P, "_target_pid", None)
    if pid:
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return None
    return None


def _process_path(name: str) -> str:
    """stap's path for `.process("NAME")`: a $PATH search and the canonical path when the
    file exists, else the name as written."""
    if not name:
        return name
    from .process import find_executable
    found = find_executable(name)
    return found if os.path.exists(found) else name


class PerfFamily:
    names = ("perf",)

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        first = components[0]
        if first.arg is not None:
            raise ProbeResolveError("probe point mismatch", first.tok)
        if len(components) < 2:
            raise ProbeResolveError(_follow(["hw", "hw_cache", "sw", "type(number)"]), first.tok)
        c1 = components[1]
        out: list[ProbeSpec] = []
        heads = ["hw", "sw", "type", "hw_cache"]
        matched = [h for h in heads if fnmatch.fnmatchcase(h, c1.name)]
        if not matched:
            raise ProbeResolveError("probe point mismatch" + _similar(c1.name, heads), c1.tok)
        errors: list[ProbeResolveError] = []
        for head in sorted(matched):
            try:
                out.extend(self._resolve_head(head, components))
            except ProbeResolveError as e:
                if not _is_wild(c1.name):
                    raise
                errors.append(e)
        if not out:
            if errors:
                raise errors[0]
            raise ProbeResolveError("probe point mismatch: didn't find any wildcard matches", c1.tok)
        return out

    # --- the type/config part ---------------------------------------------------------------
    def _resolve_head(self, head: str, comps: list[Any]) -> list[ProbeSpec]:
        c1 = comps[1]
        if head == "type":
            t = _num(c1)
            if t is None:
                raise ProbeResolveError("probe point mismatch" + _similar("type", ["type", "hw", "sw", "hw_cache"]),
                                        c1.tok)
            if len(comps) < 3:
                raise ProbeResolveError(_follow(["config(number)"]), c1.tok)
            c2 = comps[2]
            cfg = _num(c2)
            if c2.name != "config" or cfg is None:
                raise ProbeResolveError("probe point mismatch (similar: config)", c2.tok)
            return [self._suffix(t, cfg, comps[3:], alias=False)]
        if c1.arg is not None:
            raise ProbeResolveError("probe point mismatch", c1.tok)
        if head in ("hw", "sw"):
            table = HW if head == "hw" else SW
            if len(comps) < 3:
                raise ProbeResolveError(_follow(list(table)), c1.tok)
            c2 = comps[2]
            names = sorted(n for n in table if fnmatch.fnmatchcase(n, c2.name))
            if not names or c2.arg is not None:
                wild = ": didn't find any wildcard matches" if _is_wild(c2.name) else ""
                raise ProbeResolveError("probe point mismatch" + wild + _similar(c2.name, list(table)), c2.tok)
            return [self._suffix(0 if head == "hw" else 1, table[n], comps[3:], alias=True) for n in names]
        # hw_cache.CACHE.OP.RESULT
        keys = list(HW_CACHE)
        level_tok = c1
        for depth in range(3):
            if len(comps) < 3 + depth:
                nxt = sorted({k[depth] for k in keys})
                raise ProbeResolveError(_follow(nxt), level_tok.tok)
            c = comps[2 + depth]
            cand = sorted({k[depth] for k in keys})
            keep = [k for k in keys if fnmatch.fnmatchcase(k[depth], c.name)]
            if not keep or c.arg is not None:
                wild = ": didn't find any wildcard matches" if _is_wild(c.name) else ""
                raise ProbeResolveError("probe point mismatch" + wild + _similar(c.name, cand), c.tok)
            keys = keep
            level_tok = c
        return [self._suffix(3, HW_CACHE[k], comps[5:], alias=True) for k in sorted(keys)]

    # --- .sample/.hz/.process/.counter ------------------------------------------------------------
    def _suffix(self, type_: int, config: int, rest: list[Any], alias: bool) -> ProbeSpec:
        base = f"perf.type({type_}).config({config})"
        sample, freq, process, counter = DEFAULT_SAMPLE, False, None, None
        bad = None
        if rest:
            c = rest[0]
            if c.name == "sample" and _num(c) is not None and len(rest) == 1:
                sample = _num(c)
                if sample <= 0:
                    raise ProbeResolveError(f"invalid perf sample period {sample}", _number_tok(c.arg))
            elif c.name == "hz" and _num(c) is not None and len(rest) == 1:
                sample, freq = _num(c), True
            elif c.name == "process" and c.arg is None:
                process = ""
                if len(rest) > 1:
                    bad = rest[1]
            elif c.name == "process" and _str(c) is not None:
                process = _str(c)
                if len(rest) > 1:
                    c2 = rest[1]
                    if c2.name == "counter" and _str(c2) is not None and len(rest) == 2:
                        counter = _str(c2)
                    else:
                        bad = c2
            elif c.name == "counter" and _str(c) is not None and len(rest) == 1:
                counter = _str(c)
            elif c.name in ("sample", "hz") and _num(c) is not None:
                bad = rest[1]
            else:
                bad = c
        if bad is not None:
            # stap reports a named point's wrong suffix at its first component
            raise ProbeResolveError("invalid suffix for probe", (rest[0] if alias else bad).tok)
        derivation = base + "".join(_comp_text(c) for c in rest)
        params: dict[str, Any] = {"type": type_, "config": config, "sample": sample, "freq": freq,
                                  "derivation": derivation}
        pp = f"{base}.sample({0 if counter is not None else sample})"
        if process is not None:
            if process == "":
                exe = _target_exe()
                if exe is None:
                    raise ProbeResolveError("unspecified process probe is invalid without a -c COMMAND "
                                            "[man stapprobes]")
                path = exe
                params["target_only"] = True
            else:
                path = _process_path(process)
            params["process"] = path
            pp += f'.process("{path}")'
        if counter is not None:
            pp += f'.counter("{counter}")'
            raise ProbeResolveError(f"perf counters ({pp}) and @perf are not available yet in uprobe-py")
        return ProbeSpec("perf", pp, params)

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional["PerfEngine"]:
        return PerfEngine.for_session(session, probes, fire) if probes else None


def _number_tok(lit: Any) -> Any:
    """The number's own token: a negative literal's token is its '-', stap points at the digits
    (which the parser does not keep: rebuilt here, assuming '-' and the digits are adjacent)."""
    import dataclasses
    tok = lit.tok
    if tok.kind == "operator" and tok.text == "-" and isinstance(lit.value, int):
        loc = dataclasses.replace(tok.loc, col=tok.loc.col + 1)
        return dataclasses.replace(tok, kind="number", text=str(-lit.value), loc=loc, value=-lit.value)
    return tok


def _comp_text(c: Any) -> str:
    if c.arg is None:
        return f".{c.name}"
    if isinstance(c.arg.value, str):
        return f'.{c.name}("{c.arg.value}")'
    return f".{c.name}({c.arg.value})"


# --- run time ----------------------------------------------------------------------------------

def perf_paranoid() -> Optional[int]:
    try:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _privileged() -> bool:
    """root, or CAP_PERFMON (38) / CAP_SYS_ADMIN (21) in the effective set."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    return bool(caps & (1 << 38) or caps & (1 << 21))
    except (OSError, ValueError):
        pass
    return False


class PerfError(Exception):
    pass


def describe_open_error(err: int, spec_pp: str, written: str, params: dict[str, Any],
                        system_wide: bool) -> str:
    """The start-up error for a perf event the kernel refused, naming its errno."""
    name = errno.errorcode.get(err, str(err))
    what = f"perf probe {written}" + (f" ({spec_pp})" if written != spec_pp else "")
    t, cfg = params["type"], params["config"]
    tname = TYPE_NAMES.get(t, f"type {t}")
    msg = f"{what}: perf_event_open failed: {name} ({os.strerror(err)})"
    if err == errno.ENOENT and t in (0, 3):
        if os.path.exists("/sys/bus/event_source/devices/cpu"):
            msg += f": the CPU's PMU does not provide {tname} config {cfg:#x} on this machine"
        else:
            msg += f": this machine has no hardware PMU (no /sys/bus/event_source/devices/cpu) for {tname} config {cfg:#x}"
    elif err in (errno.ENOENT, errno.EOPNOTSUPP):
        msg += f": the kernel has no event {tname} config {cfg:#x}"
    elif err in (errno.EACCES, errno.EPERM):
        par = perf_paranoid()
        need = ("system-wide events need root (CAP_PERFMON) or kernel.perf_event_paranoid <= 0"
                if system_wide else "process events need kernel.perf_event_paranoid <= 2 or root")
        msg += f": {need} (/proc/sys/kernel/perf_event_paranoid is {par})"
    elif err == errno.EINVAL:
        msg += f": the kernel rejected {tname} config {cfg:#x} with sample {'frequency' if params['freq'] else 'period'} {params['sample']}"
    elif err == errno.ENODEV:
        msg += f": no such event on this CPU ({tname} config {cfg:#x})"
    elif err == errno.EMFILE:
        msg += ": too many open files (one event per CPU per probe)"
    return msg


class _Event:
    __slots__ = ("probe", "fd", "ring", "cpu", "exe_filter")

    def __init__(self, probe: Any, fd: int, ring: Any, cpu: int, exe_filter: Optional[str]) -> None:
        self.probe = probe
        self.fd = fd
        self.ring = ring
        self.cpu = cpu
        self.exe_filter = exe_filter


class _Image:
    """The identity of one process image (between execs); reads no memory."""
    __slots__ = ()

    def read(self, addr: int, n: int) -> bytes:
        from ..runtime.errors import StapRuntimeError
        raise StapRuntimeError(f"user memory is not readable from a perf sample (address {addr:#x})")


class SampleRegs:
    """What a perf sample knows of the interrupted registers: the instruction pointer."""
    __slots__ = ("rip",)

    def __init__(self) -> None:
        self.rip = 0

    def __getattr__(self, name: str) -> Any:
        from ..builtins.fn_control import ScriptError
        raise ScriptError(f"register {name} is not sampled by perf probes (only the instruction pointer)")


class PerfEngine:
    RING_PAGES = 256         # 1 MiB per CPU and probe: ~20000 samples before the kernel drops any
    BATCH = 256

    @classmethod
    def for_session(cls, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional["PerfEngine"]:
        """One engine per session (perf and timer.profile points share it)."""
        eng = getattr(session, "perf_engine", None)
        if eng is not None:
            eng.probes.extend(probes)
            return None
        eng = session.perf_engine = cls(session, probes, fire)
        return eng

    def __init__(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> None:
        from .._native._perf import ffi, lib
        self.ffi, self.lib = ffi, lib
        self.session = session
        self.probes = list(probes)
        self.fire = fire
        self.events: list[_Event] = []
        self.by_fd: dict[int, list[_Event]] = {}
        self.opened = False
        self.failed = False
        self.samples = ffi.new("struct up_sample[]", self.BATCH)
        self.regs = SampleRegs()
        self._exe_cache: dict[int, Optional[str]] = {}
        self._script_exit = False
        # per pid, a token that stands for its current image: runtime/process_maps.py keys its
        # module maps on ctx.memory's identity, so a new token after an exec means new maps
        self._images: dict[int, _Image] = {}
        self.lost = 0

    # --- the session's engine hooks (runtime/session.py) ------------------------------------
    def target_created(self) -> None:
        """Open the events right after the -c command's process exists and before it is let
        go, so that the command's first page faults are counted; without a command this is
        simply before the begin probes."""
        self.open_all()

    def session_over(self) -> None:
        self.close()

    # --- opening ------------------------------------------------------------------------------
    def _fail(self, msg: str) -> None:
        from ..runtime.errors import StapRuntimeError
        self.failed = True
        err = StapRuntimeError(msg)
        err.has_location = False            # type: ignore[attr-defined]
        self.session.report_error(err)
        self.session.request_exit()

    def open_all(self) -> None:
        if self.opened:
            return
        self.opened = True
        try:
            self._open_all()
        except PerfError as e:
            self.close()
            self._fail(str(e))
            return
        # enabled at once: the -c command is let go right after this, before the loop starts
        for ev in self.events:
            self.lib.up_perf_enable(ev.fd, 1)

    def _target_pid(self) -> int:
        return int(getattr(self.session, "target_pid", 0) or 0)

    def _open_all(self) -> None:
        cpus = online_cpus()
        privileged = _privileged()
        paranoid = perf_paranoid()
        target = self._target_pid()
        target_exe = None
        if target:
            try:
                target_exe = os.path.realpath(f"/proc/{target}/exe")
            except OSError:
                target_exe = None
        for probe in self.probes:
            params = probe.spec.params
            path = params.get("process")
            pid, inherit, exe_filter = -1, 0, None
            if path is not None:
                if target and (params.get("target_only") or path == target_exe
                               or path == _target_exe()):
                    pid, inherit = target, 1
                else:
                    exe_filter = path         # any process running PATH: sampled system-wide
            system_wide = pid == -1
            written = _written(probe)
            if not privileged:
                if system_wide and (paranoid is None or paranoid > 0):
                    raise PerfError(
                        f"perf probe {written} samples every CPU system-wide"
                        f"{' (to find the processes running ' + path + ')' if exe_filter else ''}: "
                        "that needs root (CAP_PERFMON) or kernel.perf_event_paranoid <= 0 "
                        f"(/proc/sys/kernel/perf_event_paranoid is {paranoid})")
                if paranoid is not None and paranoid > 2:
                    raise PerfError(f"perf probe {written} needs root (CAP_PERFMON): "
                                    f"kernel.perf_event_paranoid is {paranoid}, which forbids perf_event_open "
                                    "to unprivileged users")
            exclude_kernel = 0 if privileged or (paranoid is not None and paranoid < 2) else 1
            sample = params["sample"] & ((1 << 64) - 1)
            for cpu in cpus:
                fd = self.lib.up_perf_open(params["type"] & 0xFFFFFFFF, params["config"] & ((1 << 64) - 1),
                                           sample, 1 if params["freq"] else 0, pid, cpu, inherit,
                                           exclude_kernel, 0)
                if fd < 0:
                    raise PerfError(describe_open_error(-fd, probe.spec.pp, written, params, system_wide))
                ring = self.ffi.new("struct up_ring *")
                rc = self.lib.up_ring_map(ring, fd, self.RING_PAGES)
                if rc < 0:
                    os.close(fd)
                    raise PerfError(f"perf probe {written}: mmap of the ring buffer failed: "
                                    f"{errno.errorcode.get(-rc, -rc)} ({os.strerror(-rc)})")
                ev = _Event(probe, fd, ring, cpu, exe_filter)
                self.events.append(ev)
                self.by_fd.setdefault(fd, []).append(ev)

    # --- the Engine protocol ------------------------------------------------------------------
    def start(self, now: float) -> None:
        for w in sorted({p.spec.params["hz_warning"] for p in self.probes if p.spec.params.get("hz_warning")}):
            self.session.warn(w)
        self.open_all()

    def next_timeout(self, now: float) -> Optional[float]:
        return None

    def filenos(self) -> list[int]:
        if not self.opened:          # the session registers fds before start(): open now
            self.open_all()
        return [ev.fd for ev in self.events]

    def poll(self, now: float) -> None:
        for ev in self.events:
            if self.session.exit_requested:
                return
            self._drain(ev)

    def _drain(self, ev: _Event) -> None:
        lib, samples, batch = self.lib, self.samples, self.BATCH
        session = self.session
        ctx = session.ctx
        probe = ev.probe
        fire = self.fire
        regs = self.regs
        exe_filter = ev.exe_filter
        while True:
            n = lib.up_ring_read(ev.ring, samples, batch, 0)
            if n <= 0:
                return
            saved = (ctx.pid, ctx.tid, ctx.cpu, ctx.regs, ctx.user_mode, ctx.memory)
            try:
                images = self._images
                for i in range(n):
                    s = samples[i]
                    if s.misc & 0x10000:                # an exec: the process has a new image
                        images[s.pid] = _Image()
                        self._exe_cache.pop(s.pid, None)
                        continue
                    if exe_filter is not None and self._exe(s.pid) != exe_filter:
                        continue
                    ctx.pid = s.pid
                    ctx.tid = s.tid
                    ctx.cpu = s.cpu
                    user = (s.misc & 7) == 2          # PERF_RECORD_MISC_USER
                    ctx.user_mode = user
                    if user:
                        regs.rip = s.ip
                        ctx.regs = regs
                    else:
                        ctx.regs = None
                    img = images.get(s.pid)
                    if img is None:
                        img = images[s.pid] = _Image()
                    ctx.memory = img
                    fire(probe)
                    if session.exit_requested and fire is not session.fire:
                        self._script_exit = True     # exit() (or an error): no more handlers
                        return
            finally:
                ctx.pid, ctx.tid, ctx.cpu, ctx.regs, ctx.user_mode, ctx.memory = saved
            if n < batch:
                return

    def _exe(self, pid: int) -> Optional[str]:
        got = self._exe_cache.get(pid, 0)
        if got == 0:
            try:
                got = os.path.realpath(f"/proc/{pid}/exe")
            except OSError:
                got = None
            self._exe_cache[pid] = got
        return got            # type: ignore[return-value]

    def stop(self) -> None:
        """The session is ending. When the -c command's exit ended it (not exit(), an error or a
        signal), the samples still in the rings happened while it ran, as stap's handlers would
        have run in the kernel at the time: run them first."""
        session = self.session
        child = getattr(session, "child", None)
        if (self.events and not self._script_exit and child is not None
                and getattr(child, "status", None) is not None and not session.failed()):
            self.fire = session.fire
            try:
                for ev in self.events:
                    self._drain(ev)
            finally:
                self.fire = session.fire_event
        self.close()

    def close(self) -> None:
        lost = 0
        for ev in self.events:
            try:
                self.lib.up_perf_enable(ev.fd, 0)
            except Exception:
                pass
            lost += int(ev.ring.lost)
            self.lib.up_ring_unmap(ev.ring)
            try:
                os.close(ev.fd)
            except OSError:
                pass
        self.events.clear()
        self.by_fd.clear()
        if lost:
            self.lost += lost
            self.session.warn(f"perf: {lost} samples lost (the kernel's ring buffer was full)")


def _written(probe: Any) -> str:
    """The probe point as the user wrote it (for messages)."""
    try:
        return probe.probe.points[0].text() if len(probe.probe.points) == 1 else probe.point.text()
    except AttributeError:
        return probe.spec.pp


register(PerfFamily())


# --- timer.profile -------------------------------------------------------------------------------

DEFAULT_HZ = 250


def kernel_hz() -> tuple[int, Optional[str]]:
    """CONFIG_HZ of the running kernel (its tick rate) and None, or (250, why it is a guess)."""
    import glob
    import gzip
    release = os.uname().release
    sources = [f"/boot/config-{release}"] + sorted(glob.glob("/boot/config-*")) + ["/proc/config.gz"]
    for path in sources:
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:            # type: ignore[operator]
                for line in f:
                    if line.startswith("CONFIG_HZ="):
                        return int(line.split("=", 1)[1]), None
        except (OSError, ValueError, EOFError):
            continue
    return DEFAULT_HZ, (f"timer.profile: the kernel's CONFIG_HZ was not found in /boot/config-* or "
                        f"/proc/config.gz; sampling at {DEFAULT_HZ} Hz")


def resolve_profile(components: list[Any]) -> list[ProbeSpec]:
    """`timer.profile` (cpu-clock samples on every CPU at the kernel tick rate) and
    `timer.profile.freq[.hz(N)]` (stap's alias for perf.sw.cpu_clock[...])."""
    unit = components[1]
    if unit.arg is not None:
        raise ProbeResolveError("probe point mismatch" + _similar(unit.name, ["profile", "s", "hz", "ms", "ns"]),
                                unit.tok)
    rest = components[2:]
    if not rest:
        hz, guess = kernel_hz()
        period = 1_000_000_000 // hz
        spec = PerfFamily()._suffix(1, 0, [], alias=False)
        spec.params["sample"] = period
        spec.pp = f"perf.type(1).config(0).sample({period})"
        spec.params["derivation"] = spec.pp
        spec.params["profile"] = True
        if guess:
            spec.params["hz_warning"] = guess
        return [spec]
    if rest[0].name == "tick" and rest[0].arg is None and len(rest) == 1:
        raise ProbeResolveError("profiling timer support (register_timer_hook) not found in kernel!")
    if rest[0].name == "freq" and rest[0].arg is None:
        return [PerfFamily()._suffix(1, 0, rest[1:], alias=True)]
    raise ProbeResolveError("invalid suffix for probe", rest[0].tok)
