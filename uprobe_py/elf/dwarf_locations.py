"""DWARF location expressions → evaluators run at a probe hit.

`location_expr(die, pc, dwarfinfo)` picks a variable's expression at pc (its
DW_AT_location exprloc, or the matching entry of its DWARF 4 .debug_loc / DWARF 5
.debug_loclists list, through pyelftools' LocationParser); `compile_expr(ops_bytes,
env)` parses it once with pyelftools' DWARFExprParser and returns a function
`f(ctx) -> Loc`, where Loc is ("mem", address) — the object lives in the target's
memory — or ("bytes", b) — its value is in registers or computed (DW_OP_regN,
DW_OP_stack_value, DW_OP_implicit_value, DW_OP_piece assemblies).

`Env` carries what an expression may need besides registers and memory: the load
bias (DW_OP_addr in PIE/shared objects), the frame base (the function's
DW_AT_frame_base, itself compiled; DW_OP_call_frame_cfa from uprobe_py.elf.cfi),
and fs_base for TLS. Unsupported operations raise LocError at compile time with a
message the semantic pass reports.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Optional

from . import dies as D
from .cfi import DWARF_REGS

M64 = (1 << 64) - 1
Loc = tuple


class LocError(Exception):
    pass


class Fault(Exception):
    """A run-time read of target memory failed (reported as stap's read fault)."""

    def __init__(self, addr: int) -> None:
        super().__init__(addr)
        self.addr = addr


def read_mem(ctx: Any, addr: int, n: int) -> bytes:
    try:
        b = ctx.memory.read(addr & M64, n)
    except (OSError, ValueError, OverflowError):
        raise Fault(addr) from None
    if b is None or len(b) < n:
        raise Fault(addr)
    return b


def reg_value(ctx: Any, regno: int) -> int:
    if regno >= len(DWARF_REGS):
        raise LocError(f"register {regno}")
    return getattr(ctx.regs, DWARF_REGS[regno]) & M64


def location_expr(die: Any, pc: int, dwarfinfo: Any) -> Optional[bytes]:
    """The location expression that applies at pc (None: no location there)."""
    a = D.attr_integrate(die, "DW_AT_location")
    if a is None:
        return None
    if a.form in D.EXPR_FORMS:
        return bytes(a.value)
    got = D.loclist_lookup(die, a, pc, dwarfinfo)
    if got is None:
        return None
    hit, default = got
    if hit is not None:
        return bytes(hit)
    return None if default is None else bytes(default)


class Env:
    def __init__(self, structs: Any, bias_of: Callable[[Any], int], frame_base: Optional[Callable] = None,
                 cfa: Optional[Callable] = None, tls_size: Optional[int] = None) -> None:
        self.tls_size = tls_size
        self.structs = structs
        self.bias_of = bias_of
        self.frame_base = frame_base
        self.cfa = cfa


def _parse(expr: bytes, structs: Any) -> list[Any]:
    from elftools.dwarf.dwarf_expr import DWARFExprParser
    return DWARFExprParser(structs).parse_expr(list(expr))


def _signed(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def compile_expr(expr: bytes, env: Env) -> Callable[[Any], Loc]:
    ops = _parse(expr, env.structs)
    if not ops:
        raise LocError("empty location")
    # fast paths: the shapes compilers emit most
    if len(ops) == 1:
        op = ops[0]
        name, args = op.op_name, op.args
        if name.startswith("DW_OP_reg") and name != "DW_OP_regx" and name != "DW_OP_regval_type":
            r = int(name[9:])
            _check_reg(r)
            attr = DWARF_REGS[r]
            return lambda c: ("bytes", struct.pack("<Q", getattr(c.regs, attr) & M64))
        if name == "DW_OP_regx":
            r = args[0]
            _check_reg(r)
            attr = DWARF_REGS[r]
            return lambda c: ("bytes", struct.pack("<Q", getattr(c.regs, attr) & M64))
        if name == "DW_OP_fbreg" and env.frame_base is not None:
            fb, off = env.frame_base, args[0]
            return lambda c: ("mem", (fb(c) + off) & M64)
        if name == "DW_OP_addr":
            a, bias_of = args[0], env.bias_of
            return lambda c: ("mem", (a + bias_of(c)) & M64)
        if name.startswith("DW_OP_breg") and name != "DW_OP_bregx":
            r = int(name[10:])
            _check_reg(r)
            attr, off = DWARF_REGS[r], args[0]
            return lambda c: ("mem", (getattr(c.regs, attr) + off) & M64)
    steps = [_step(op, env) for op in ops]
    return _interpreter(steps)


def _check_reg(r: int) -> None:
    if r >= len(DWARF_REGS) - 1:
        raise LocError(f"DW_OP_reg{r}")


def _step(op: Any, env: Env) -> tuple:
    name, args = op.op_name, op.args
    if name.startswith("DW_OP_lit"):
        return ("push", int(name[9:]))
    if name in ("DW_OP_const1u", "DW_OP_const2u", "DW_OP_const4u", "DW_OP_const8u", "DW_OP_constu",
                "DW_OP_const1s", "DW_OP_const2s", "DW_OP_const4s", "DW_OP_const8s", "DW_OP_consts"):
        return ("push", args[0] & M64)
    if name == "DW_OP_addr":
        return ("addr", args[0])
    if name.startswith("DW_OP_breg") and name != "DW_OP_bregx":
        r = int(name[10:])
        _check_reg(r)
        return ("breg", DWARF_REGS[r], args[0])
    if name == "DW_OP_bregx":
        _check_reg(args[0])
        return ("breg", DWARF_REGS[args[0]], args[1])
    if name.startswith("DW_OP_reg") and name not in ("DW_OP_regx", "DW_OP_regval_type"):
        r = int(name[9:])
        _check_reg(r)
        return ("reg", DWARF_REGS[r])
    if name == "DW_OP_regx":
        _check_reg(args[0])
        return ("reg", DWARF_REGS[args[0]])
    if name == "DW_OP_fbreg":
        if env.frame_base is None:
            raise LocError("DW_OP_fbreg without a frame base")
        return ("fbreg", env.frame_base, args[0])
    if name == "DW_OP_call_frame_cfa":
        if env.cfa is None:
            raise LocError("DW_OP_call_frame_cfa without CFI")
        return ("fn", env.cfa)
    if name in ("DW_OP_stack_value", "DW_OP_deref", "DW_OP_dup", "DW_OP_drop", "DW_OP_swap", "DW_OP_over",
                "DW_OP_rot", "DW_OP_abs", "DW_OP_neg", "DW_OP_not", "DW_OP_and", "DW_OP_or", "DW_OP_xor",
                "DW_OP_plus", "DW_OP_minus", "DW_OP_mul", "DW_OP_div", "DW_OP_mod", "DW_OP_shl", "DW_OP_shr",
                "DW_OP_shra", "DW_OP_eq", "DW_OP_ne", "DW_OP_lt", "DW_OP_gt", "DW_OP_le", "DW_OP_ge", "DW_OP_nop"):
        return (name[6:],)
    if name in ("DW_OP_form_tls_address", "DW_OP_GNU_push_tls_address"):
        if env.tls_size is None:
            raise LocError("TLS of a shared library")
        return ("tls", env.tls_size)
    if name in ("DW_OP_plus_uconst", "DW_OP_pick", "DW_OP_deref_size", "DW_OP_piece"):
        return (name[6:], args[0])
    if name == "DW_OP_implicit_value":
        return ("implicit", bytes(args[0]) if not isinstance(args[0], bytes) else args[0])
    if name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
        raise LocError("entry_value")
    raise LocError(name)


def _interpreter(steps: list[tuple]) -> Callable[[Any], Loc]:
    def run(c: Any) -> Loc:
        st: list[int] = []
        pieces: list[bytes] = []
        cur: Optional[Loc] = None        # a register or value location awaiting DW_OP_piece
        for s in steps:
            k = s[0]
            if k == "push":
                st.append(s[1])
            elif k == "addr":
                st.append((s[1] + c.extra["module"][1]) & M64 if "module" in c.extra else s[1])
            elif k == "breg":
                st.append((getattr(c.regs, s[1]) + s[2]) & M64)
            elif k == "fbreg":
                st.append((s[1](c) + s[2]) & M64)
            elif k == "fn":
                st.append(s[1](c) & M64)
            elif k == "reg":
                cur = ("bytes", struct.pack("<Q", getattr(c.regs, s[1]) & M64))
            elif k == "stack_value":
                cur = ("bytes", struct.pack("<Q", st[-1] & M64))
            elif k == "implicit":
                cur = ("bytes", s[1])
            elif k == "piece":
                n = s[1]
                if cur is None:
                    cur = ("mem", st.pop()) if st else ("bytes", b"\0" * n)   # empty piece: optimized out
                if cur[0] == "mem":
                    pieces.append(read_mem(c, cur[1], n))
                else:
                    pieces.append(cur[1][:n].ljust(n, b"\0"))
                cur = None
            elif k == "deref":
                st.append(struct.unpack("<Q", read_mem(c, st.pop(), 8))[0])
            elif k == "deref_size":
                st.append(int.from_bytes(read_mem(c, st.pop(), s[1]), "little"))
            elif k == "plus_uconst":
                st.append((st.pop() + s[1]) & M64)
            elif k == "dup":
                st.append(st[-1])
            elif k == "drop":
                st.pop()
            elif k == "over":
                st.append(st[-2])
            elif k == "pick":
                st.append(st[-1 - s[1]])
            elif k == "swap":
                st[-1], st[-2] = st[-2], st[-1]
            elif k == "rot":
                st[-1], st[-2], st[-3] = st[-2], st[-3], st[-1]
            elif k == "tls":
                # x86_64 variant II TLS of the main executable: its block ends at fs_base
                st.append((st.pop() + c.regs.fs_base - s[1]) & M64)
            elif k == "nop":
                pass
            else:
                st.append(_binop(k, st))
        if pieces:
            return ("bytes", b"".join(pieces))
        if cur is not None:
            return cur
        return ("mem", st[-1])
    return run


def _binop(k: str, st: list[int]) -> int:
    if k in ("abs", "neg", "not"):
        a = st.pop()
        if k == "abs":
            return abs(_signed(a)) & M64
        if k == "neg":
            return -a & M64
        return ~a & M64
    b = st.pop()
    a = st.pop()
    if k == "plus":
        return (a + b) & M64
    if k == "minus":
        return (a - b) & M64
    if k == "mul":
        return (a * b) & M64
    if k == "div":
        sa, sb = _signed(a), _signed(b)
        return (int(sa / sb) if sb else 0) & M64
    if k == "mod":
        return (a % b) if b else 0
    if k == "and":
        return a & b
    if k == "or":
        return a | b
    if k == "xor":
        return a ^ b
    if k == "shl":
        return (a << b) & M64 if b < 64 else 0
    if k == "shr":
        return a >> b if b < 64 else 0
    if k == "shra":
        return (_signed(a) >> min(b, 63)) & M64
    sa, sb = _signed(a), _signed(b)
    return int({"eq": sa == sb, "ne": sa != sb, "lt": sa < sb, "gt": sa > sb, "le": sa <= sb,
                "ge": sa >= sb}[k])


def cfa_evaluator(image: Any, pc: int) -> Optional[Callable[[Any], int]]:
    """The CFA at pc (an ELF vaddr) as a function of the registers, from the image's CFI."""
    from .cfi import frame_table
    row = frame_table(image).row(pc)
    if row is None or row.cfa[0] != "reg":
        return None
    _, r, off = row.cfa
    if r >= len(DWARF_REGS) - 1:
        return None
    attr = DWARF_REGS[r]
    return lambda c: (getattr(c.regs, attr) + off) & M64
