"""One step of a user-space x86_64 stack unwind with CFI, as stap's DWARF unwinder does it.

`step(regs, read, maps, call_frame)`: `regs` maps DWARF register numbers (0 rax ...
7 rsp, 16 rip: elf.cfi.DWARF_REGS) to values of the frame being unwound; `read(addr,
n)` reads the tracee's memory (a short result is a fault); `maps` is the process's
module map (runtime.process_maps.ProcessMaps). The module covering the pc gives the
ElfImage, whose CFI row (elf.cfi.frame_table: .eh_frame, else .debug_frame) at
`pc - call_frame` gives the CFA and the saved registers. The result is the caller's
registers, or None where stap's unwinder stops: no module or no CFI for the pc (stap
has no frame-pointer fallback for user space), an unreadable save slot, or a return
address that is undefined (the outermost frame, `_start`) or 0.

Callers pass call_frame=0 for the frame the probe hit (its pc is exact) and 1 for
the frames above it (their pc is a return address: the call is at pc - 1).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

MASK = (1 << 64) - 1
RSP, RIP = 7, 16

Regs = dict


def _u64(b: bytes) -> int:
    return int.from_bytes(b, "little")


def _uleb(data: bytes, pos: int, signed: bool = False) -> tuple[int, int]:
    """The (U/S)LEB128 at data[pos]: (value, position after it)."""
    v = shift = 0
    while True:
        b = data[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if signed and b & 0x40:
                v -= 1 << shift
            return v, pos


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    return _uleb(data, pos, True)


class _Fault(Exception):
    pass


def eval_expr(expr: bytes, regs: Regs, read: Callable[[int, int], bytes], push: Optional[int] = None) -> int:
    """A DWARF expression of the kind CFI uses (registers, constants, arithmetic, deref)."""
    st: list[int] = [] if push is None else [push]
    pos = 0
    n = len(expr)
    while pos < n:
        op = expr[pos]
        pos += 1
        if 0x30 <= op <= 0x4F:                        # lit0..31
            st.append(op - 0x30)
        elif 0x70 <= op <= 0x8F:                      # breg0..31
            off, pos = _sleb(expr, pos)
            st.append((regs.get(op - 0x70, 0) + off) & MASK)
        elif 0x50 <= op <= 0x6F:                      # reg0..31 (a location, used as a value)
            st.append(regs.get(op - 0x50, 0))
        elif op == 0x92:                              # bregx
            r, pos = _uleb(expr, pos)
            off, pos = _sleb(expr, pos)
            st.append((regs.get(r, 0) + off) & MASK)
        elif op in (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F):   # const1u..const8s
            size = {0x08: 1, 0x09: 1, 0x0A: 2, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8, 0x0F: 8}[op]
            st.append(int.from_bytes(expr[pos:pos + size], "little", signed=bool(op & 1)) & MASK)
            pos += size
        elif op == 0x10:                              # constu
            v, pos = _uleb(expr, pos)
            st.append(v & MASK)
        elif op == 0x11:                              # consts
            v, pos = _sleb(expr, pos)
            st.append(v & MASK)
        elif op == 0x23:                              # plus_uconst
            v, pos = _uleb(expr, pos)
            st.append((st.pop() + v) & MASK)
        elif op == 0x06:                              # deref
            a = st.pop()
            b = read(a, 8)
            if len(b) != 8:
                raise _Fault()
            st.append(_u64(b))
        elif op == 0x12:
            st.append(st[-1])                         # dup
        elif op == 0x13:
            st.pop()                                  # drop
        elif op == 0x16:
            st[-1], st[-2] = st[-2], st[-1]           # swap
        elif op == 0x14:
            st.append(st[-2])                         # over
        elif op == 0x1F:                              # neg
            st.append(-st.pop() & MASK)
        elif op == 0x20:                              # not
            st.append(~st.pop() & MASK)
        else:
            b_, a_ = st.pop(), st.pop()
            sa = a_ - (1 << 64) if a_ >> 63 else a_
            sb = b_ - (1 << 64) if b_ >> 63 else b_
            if op == 0x22:
                r = a_ + b_
            elif op == 0x1C:
                r = a_ - b_
            elif op == 0x1E:
                r = a_ * b_
            elif op == 0x1A:
                r = a_ & b_
            elif op == 0x21:
                r = a_ | b_
            elif op == 0x27:
                r = a_ ^ b_
            elif op == 0x24:
                r = a_ << (b_ & 63)
            elif op == 0x25:
                r = a_ >> (b_ & 63)
            elif op == 0x26:
                r = sa >> (b_ & 63)
            elif op == 0x29:
                r = int(sa == sb)
            elif op == 0x2E:
                r = int(sa != sb)
            elif op == 0x2A:
                r = int(sa >= sb)
            elif op == 0x2B:
                r = int(sa > sb)
            elif op == 0x2C:
                r = int(sa <= sb)
            elif op == 0x2D:
                r = int(sa < sb)
            else:
                raise _Fault()                        # an operation CFI does not use
            st.append(r & MASK)
    if not st:
        raise _Fault()
    return st[-1]


def step(regs: Regs, read: Callable[[int, int], bytes], maps: Any, call_frame: int) -> Optional[Regs]:
    """The caller's registers, or None where the unwind ends."""
    from uprobe_py.elf.cfi import frame_table
    pc = regs.get(RIP, 0)
    if pc == 0:
        return None
    m = maps.module(pc - call_frame)
    if m is None or m.image is None:
        return None
    try:
        row = frame_table(m.image).row((pc - call_frame - m.bias) & MASK)
    except Exception:                                # malformed CFI: stop, as stap does
        return None
    if row is None:
        return None
    try:
        if row.cfa[0] == "reg":
            cfa = (regs.get(row.cfa[1], 0) + row.cfa[2]) & MASK
        else:
            cfa = eval_expr(row.cfa[1], regs, read)
        new = dict(regs)
        new[RSP] = cfa
        for r, rule in row.rules.items():
            kind = rule[0]
            if kind == "offset":
                b = read((cfa + rule[1]) & MASK, 8)
                if len(b) != 8:
                    return None
                new[r] = _u64(b)
            elif kind == "val_offset":
                new[r] = (cfa + rule[1]) & MASK
            elif kind == "register":
                new[r] = regs.get(rule[1], 0)
            elif kind == "undefined":
                new[r] = 0
            elif kind == "expr":
                a = eval_expr(rule[1], regs, read, cfa)
                b = read(a, 8)
                if len(b) != 8:
                    return None
                new[r] = _u64(b)
            elif kind == "val_expr":
                new[r] = eval_expr(rule[1], regs, read, cfa)
        ra = row.ra
        if ra not in row.rules:
            return None                               # no rule for the return address
        new[RIP] = new.get(ra, 0)
    except (_Fault, IndexError):
        return None
    if new[RIP] == 0:
        return None
    return new


def regs_of(user_regs: Any) -> Regs:
    """DWARF-numbered registers from a UserRegs snapshot."""
    from uprobe_py.elf.cfi import DWARF_REGS
    return {i: getattr(user_regs, name) for i, name in enumerate(DWARF_REGS)}
