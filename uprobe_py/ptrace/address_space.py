"""One traced process image: its breakpoints, out-of-line slots and pending `.return` frames.

Every thread of a process shares one `AddressSpace` (so does a vfork child until it
execs); a fork child gets a copy (`fork_copy`): its memory already holds the same int3s
and scratch pages, so only the bookkeeping is copied. An exec replaces the space.

Arming: at the exec stop only the program and its dynamic linker are mapped; probes
waiting for a library are armed by an int3 at the program's entry point (AT_ENTRY),
where ld.so has mapped the libraries the program needs (dlopen()ed ones: later work).

`.return` probes (push_return / take_return): at the function's entry [rsp] holds the
return address. The stack is never rewritten: an int3 goes at that return site and a
pending entry (tid, rsp after the ret = rsp at entry + 8, probes, entry values) waits
for it; a hit there with that rsp is the return. Frames skipped by longjmp or
exceptions are found as the kernel's uretprobes find them: a pending entry of the
thread whose frame is not above the stack pointer of a new call or return is dead and
dropped, never fired. Recursion: one entry per frame, told apart by rsp; no cap. A tail
call (`jmp` into a probed function) reuses the caller's return slot: a pending frame of
another function at exactly that slot is kept, and both return there, innermost first (a
function re-entered at the same slot after a longjmp is taken as stale instead).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import syscalls as sc
from .breakpoints import Breakpoints, auxv_entry, executable_ranges, exe_path, load_base
from .relocate import SLOT_SIZE, Plan, plan
from .scratch import Scratch, ScratchError
from .semaphores import adjust

Pending = tuple[int, int, list[Any], Any, list[Any]]    # tid, rsp after return, probes, module, values


class AddressSpace:
    def __init__(self, pid: int, mem: sc.Memory, bps: Breakpoints, scratch: Scratch) -> None:
        self.pid = pid                      # the process (thread group) id
        self.mem = mem
        self.bps = bps
        self.scratch = scratch
        self.plans: dict[int, Plan] = {}    # probe address / return site -> how to get past it
        self.slots: dict[int, int] = {}     # address -> its out-of-line slot (plan "slot")
        self.retired: set[int] = set()      # addresses that held one of our int3s
        self.pending: dict[int, list[Pending]] = {}
        self.split: dict[int, tuple[list[Any], list[Any]]] = {}
        self.fast: dict[int, tuple[list[Any], Any, int]] = {}   # addr -> (probes, module, resume rip)
        self.entry_bp = 0                   # AT_ENTRY int3 while library probes wait
        self.rtld_bp = 0                    # the dynamic linker's r_brk while some still wait (dlopen)
        self.unmapped: list[Any] = []       # probes whose module was not mapped at exec
        self._xranges: list[tuple[int, int]] = []
        self.semaphores: dict[int, int] = {}    # run-time address -> our increments
        self._counted: set[tuple[int, int]] = set()

    # --- creation ----------------------------------------------------------------------
    @classmethod
    def for_image(cls, pid: int, tid: int, probes: list[Any], wait_trap: Callable[[int], Optional[int]],
                  at_exec: bool) -> Optional["AddressSpace"]:
        """The space of a process whose probes (`process` param: only in that program) map now
        or will at its entry point; None when nothing is probed in it."""
        exe = exe_path(pid)
        mine = [p for p in probes if p.spec.params.get("process", exe) == exe
                and p.spec.params.get("pid", pid) == pid]
        if not mine:
            return None
        mem = sc.Memory(pid)
        bps = Breakpoints(mem)
        missing = bps.plan(pid, mine)
        entry = auxv_entry(pid) if missing and at_exec else 0
        if not bps.probes and not entry:
            mem.close()
            return None
        space = cls(pid, mem, bps, Scratch(pid, mem, wait_trap))
        space.unmapped = [p for p in mine if p.spec.params["path"] in missing]
        space.arm(tid)
        if entry and bps.add(entry):
            space.entry_bp = entry
            space.retired.add(entry)
        return space

    def fork_copy(self, child: int, parent_tid: int, wait_trap: Callable[[int], Optional[int]]) -> "AddressSpace":
        """The child of a fork: same int3s and scratch pages (copied with its memory); the
        forking thread's pending returns become the child's (its stack is a copy)."""
        mem = sc.Memory(child)
        bps = Breakpoints(mem)
        bps.probes = self.bps.probes
        bps.saved = dict(self.bps.saved)
        bps.module = self.bps.module
        scratch = Scratch(child, mem, wait_trap)
        scratch.areas = [list(a) for a in self.scratch.areas]
        scratch.stub = self.scratch.stub
        space = AddressSpace(child, mem, bps, scratch)
        space.plans, space.slots, space.split, space.fast = self.plans, dict(self.slots), self.split, self.fast
        space.retired = set(self.retired)
        space.semaphores = dict(self.semaphores)        # the child's memory holds our increments
        space._counted = set(self._counted)
        space.entry_bp, space.unmapped, space.rtld_bp = self.entry_bp, list(self.unmapped), self.rtld_bp
        for site, lst in self.pending.items():
            mine = [(child, after, probes, module, values) for t, after, probes, module, values in lst
                    if t == parent_tid]
            if mine:
                space.pending[site] = mine
        for site in list(space.bps.saved):          # return sites only the parent waits for
            if site in self.pending and site not in space.pending and site not in bps.probes \
                    and site not in (space.entry_bp, space.rtld_bp):
                space.bps.remove(site)
        return space

    def close(self) -> None:
        self.mem.close()

    # --- breakpoints ---------------------------------------------------------------------
    def arm(self, tid: int) -> None:
        """int3s in for every planned probe address not yet armed."""
        for addr in self.bps.probes:         # decided before any int3 is in the code
            if addr not in self.plans:
                self.prepare(addr, tid)
        self.bps.insert_all()
        self.retired.update(self.bps.probes)
        for addr, ps in self.bps.probes.items():     # SDT semaphores: "a tracer is here"
            for p in ps:
                sem = p.spec.params.get("semaphore")
                if sem and (id(p), addr) not in self._counted:
                    self._counted.add((id(p), addr))
                    rt = self.bps.module[addr][1] + sem
                    if self._bump(rt, 1):
                        self.semaphores[rt] = self.semaphores.get(rt, 0) + 1
        # per address, decided once: the entry/statement probes and the .return probes
        self.split = {addr: ([p for p in ps if p.spec.params.get("kind") != "return"],
                             [p for p in ps if p.spec.params.get("kind") == "return"])
                      for addr, ps in self.bps.probes.items()}
        # the common hit, decided once: only entry/statement probes, and a resume address
        # that does not depend on the registers (a slot, or a jump's target)
        self.fast = {}
        for addr, (entries, rets) in self.split.items():
            p = self.plans.get(addr)
            if rets or p is None or p.kind not in ("slot", "jump"):
                continue
            resume = self.slots[addr] if p.kind == "slot" else p.target
            self.fast[addr] = (entries, self.bps.module[addr], resume)

    def arm_libraries(self, tid: int) -> None:
        """At the program's entry point (the libraries it needs are mapped now) and at each
        dlopen (the dynamic linker's r_brk): probes of the modules that appeared are armed;
        while some module is still missing, an int3 at r_brk watches for it."""
        self.entry_bp = 0
        self._forget_unmapped()
        missing = set(self.bps.plan(self.pid, self.unmapped))
        self.unmapped = [p for p in self.unmapped if p.spec.params["path"] in missing]
        self.arm(tid)
        if self.unmapped and not self.rtld_bp:
            brk = rtld_break(self.pid, self.mem)
            if brk:
                try:
                    if brk not in self.plans:
                        self.prepare(brk, tid)
                    if self.bps.add(brk):
                        self.rtld_bp = brk
                        self.retired.add(brk)
                except OSError:
                    pass

    def _forget_unmapped(self) -> None:
        """Modules dlclose()d since they were armed: their int3s went with their pages; their
        probes wait again for the module to be mapped."""
        bases: dict[str, Optional[int]] = {}
        for addr, (path, bias) in list(self.bps.module.items()):
            if path not in bases:
                bases[path] = load_base(self.pid, path)
            probes = self.bps.probes.get(addr, [])
            if not probes or bases[path] is not None:
                continue
            for d in (self.bps.probes, self.bps.saved, self.bps.module, self.plans, self.slots,
                      self.split, self.fast):
                d.pop(addr, None)       # type: ignore[attr-defined]
            self.retired.discard(addr)
            self.unmapped.extend(probes)

    def prepare(self, addr: int, tid: int) -> None:
        """How a hit at `addr` gets past the displaced instruction (relocate.py), and its slot."""
        code = bytearray(self.mem.read(addr, 16))
        for a, orig in self.bps.saved.items():      # our own int3s inside those bytes
            if addr <= a < addr + len(code):
                code[a - addr] = orig[0]
        p = plan(addr, bytes(code))
        if p.kind == "slot":
            try:
                slot = self.scratch.slot(addr, SLOT_SIZE, tid)
                body = p.slot_code(slot) if slot is not None else None
                if body is None:
                    p.kind = "step"
                else:
                    self.mem.write(slot, body)
                    self.slots[addr] = slot
            except (OSError, ScratchError):
                p.kind = "step"
        self.plans[addr] = p

    def ours(self, addr: int) -> bool:
        """Did an int3 of ours (now or before) stand at `addr`? A thread may report the trap
        of an int3 that another thread's event removed meanwhile."""
        return addr in self.retired

    def remove_all(self) -> None:
        self.bps.remove_all()
        for rt, n in self.semaphores.items():
            self._bump(rt, -n)
        self.semaphores.clear()

    def _bump(self, addr: int, delta: int) -> bool:
        """Add delta to the 16-bit SDT semaphore at addr (semaphores.py); False if unreadable."""
        try:
            if len(self.mem.read(addr, 2)) != 2:
                return False
        except OSError:
            return False
        adjust(self.mem, [addr], delta)
        return True

    def push_return(self, tid: int, rsp: int, probes: list[Any], module: Any, values: list[Any]) -> None:
        after = rsp + 8
        # frames at or below this call's are gone; one exactly at it is a tail call's caller
        # (`jmp` into this function reuses its return slot) when it is another function's:
        # then both return here, innermost first, as uretprobes' chained instances do
        self.drop_dead(tid, after, tail_of=probes)
        try:
            raw = self.mem.read(rsp, 8)
        except OSError:
            return
        if len(raw) != 8:
            return
        site = int.from_bytes(raw, "little")
        if not self.executable(site):        # an unusual stack: never plant an int3 in data
            return
        try:
            if site not in self.plans:
                self.prepare(site, tid)
            if not self.bps.add(site):
                return
        except OSError:
            return
        self.retired.add(site)
        self.pending.setdefault(site, []).append((tid, after, probes, module, values))

    def take_return(self, addr: int, tid: int, rsp: int) -> list[tuple[list[Any], Any, list[Any]]]:
        """The probes, module and entry values of the frames returning to `addr` with this rsp
        (one, or a tail-call chain: innermost first); those and every dead one of the thread
        (rsp above theirs) are dropped."""
        got = [(probes, module, values) for t, after, probes, module, values in self.pending.get(addr, ())
               if t == tid and after == rsp]
        self.drop_dead(tid, rsp)
        got.reverse()
        return got

    def drop_dead(self, tid: int, rsp: int, tail_of: Optional[list[Any]] = None) -> None:
        """Drop the thread's pending returns whose frames are not above `rsp` (their
        rsp-after-return <= rsp), but keep one exactly at `rsp` of another function than
        `tail_of` (a tail call's caller); a return site nobody waits for loses its int3."""
        for site in list(self.pending):
            lst = self.pending[site]
            keep = [e for e in lst if e[0] != tid or e[1] > rsp
                    or (tail_of is not None and e[1] == rsp and e[2] is not tail_of)]
            if len(keep) == len(lst):
                continue
            if keep:
                self.pending[site] = keep
            else:
                del self.pending[site]
                if site not in self.bps.probes and site not in (self.entry_bp, self.rtld_bp):
                    try:
                        self.bps.remove(site)
                    except OSError:
                        pass

    def drop_thread(self, tid: int) -> None:
        """A thread ended: its pending returns go."""
        self.drop_dead(tid, (1 << 64) - 1)

    def executable(self, addr: int) -> bool:
        for lo, hi in self._xranges:
            if lo <= addr < hi:
                return True
        self._xranges = executable_ranges(self.pid)      # a new mapping (dlopen): look again
        return any(lo <= addr < hi for lo, hi in self._xranges)


DT_DEBUG = 21


def rtld_break(pid: int, mem: sc.Memory) -> int:
    """The dynamic linker's r_brk (called after every change of the link map: dlopen, dlclose),
    found through the program's DT_DEBUG entry, which ld.so points at its r_debug."""
    import struct
    from .breakpoints import exe_path as _exe
    from ..elf.image import ElfImage, NotElf
    path = _exe(pid)
    try:
        img = ElfImage(path)
    except (NotElf, OSError):
        return 0
    dyn = next((seg for seg in img.elf.iter_segments() if seg["p_type"] == "PT_DYNAMIC"), None)
    base = load_base(pid, path)
    if dyn is None or base is None:
        return 0
    addr = dyn["p_vaddr"] + (base - img.load_base if img.relocatable else 0)
    try:
        raw = mem.read(addr, dyn["p_memsz"])
        for i in range(0, len(raw) - 15, 16):
            tag, val = struct.unpack_from("<qQ", raw, i)
            if tag == 0:
                break
            if tag == DT_DEBUG and val:
                r_debug = mem.read(val, 24)            # int r_version; link_map *r_map; r_brk
                return struct.unpack_from("<Q", r_debug, 16)[0] if len(r_debug) == 24 else 0
    except OSError:
        return 0
    return 0
