"""Run-time reads of target variables and their `$`/`$$` pretty-printing.

Everything here is built at start-up from a variable's DWARF type: `scalar_reader`
gives `f(ctx, loc) -> int` for one base/enum/pointer/bitfield object; `pretty_plan`
gives stap's format string for an aggregate (`{.a=%lld, .s=%s, .in={...}, .arr=[...],
<union>={...}, .p=%#p, .d=?}`: the format stap's dwarf_pretty_print builds) and the
list of argument readers; `pretty_printer` compiles both into `f(ctx, loc) -> str`.
A Loc is ("mem", address) or ("bytes", value bytes) (uprobe_py.elf.dwarf_locations).
Faults: a read that fails raises Fault(addr), reported as stap's
`read fault [man error::fault] at 0x...`; inside a pretty-printer the whole string
becomes "ERROR" (stap wraps it in a try/catch); a `char*` that cannot be read prints
as its address (user_string_quoted's catch).
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Optional

from ..elf import dwarf_types as T
from ..elf.dies import die_name
from ..elf.dwarf_locations import M64, Fault, read_mem

Reader = Callable[[Any, tuple], Any]


def load_bytes(ctx: Any, loc: tuple, off: int, n: int) -> bytes:
    if loc[0] == "mem":
        return read_mem(ctx, loc[1] + off, n)
    b = loc[1][off: off + n]
    return b.ljust(n, b"\0")


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def scalar_reader(type_die: Any, off: int = 0, bit_size: Optional[int] = None, bit_off: int = 0) -> Reader:
    """The stap `long` value of a scalar object at loc+off."""
    k = T.kind(type_die)
    size = T.size_of(type_die) or 8
    if k == "pointer":
        size = 8
    signed = T.is_signed(type_die) if k in ("int", "enum") else False
    if k == "float":
        signed = True
    if bit_size is not None:
        nbytes = (bit_off + bit_size + 7) // 8

        def rd_bits(c: Any, loc: tuple) -> int:
            raw = int.from_bytes(load_bytes(c, loc, off, nbytes), "little")
            v = (raw >> bit_off) & ((1 << bit_size) - 1)
            return _signed(v, bit_size) if signed else v
        return rd_bits
    if size > 8:
        size = 8
    if k == "pointer" or (size == 8 and not signed):
        def rd_u64(c: Any, loc: tuple) -> int:
            return _signed(int.from_bytes(load_bytes(c, loc, off, 8), "little"), 64)
        return rd_u64
    if loc_is_fast(size):
        fmt = "<" + {1: "b", 2: "h", 4: "i", 8: "q"}[size] if signed else "<" + {1: "B", 2: "H", 4: "I", 8: "q"}[size]

        def rd(c: Any, loc: tuple) -> int:
            return struct.unpack(fmt, load_bytes(c, loc, off, size))[0]
        return rd

    def rd_any(c: Any, loc: tuple) -> int:
        v = int.from_bytes(load_bytes(c, loc, off, size), "little")
        return _signed(v, size * 8) if signed else v
    return rd_any


def loc_is_fast(size: int) -> bool:
    return size in (1, 2, 4, 8)


def pointer_reader(off: int = 0) -> Reader:
    def rd(c: Any, loc: tuple) -> int:
        return int.from_bytes(load_bytes(c, loc, off, 8), "little")
    return rd


def user_string_quoted(ctx: Any, addr: int, maxlen: Optional[int] = None) -> str:
    """stap's user_string_quoted(addr): string_quoted(user_string(addr)), else "0x%x"."""
    from ..builtins.fn_string import text_str_impl
    msl = ctx.session.maxstringlen if ctx.session is not None else 512
    limit = msl - 1 if maxlen is None else min(maxlen, msl - 1)
    out = bytearray()
    a = addr & M64
    try:
        while len(out) < limit:
            want = min(64 - (a + len(out)) % 64 or 64, limit - len(out))
            chunk = read_mem(ctx, a + len(out), want)
            z = chunk.find(b"\0")
            if z >= 0:
                out += chunk[:z]
                break
            out += chunk
    except Fault:
        return "0x%x" % a
    return text_str_impl(out.decode("latin-1"), msl, msl, True, msl)


# --- pretty-printing plans --------------------------------------------------------
class Plan:
    """A format string being built and the readers of its arguments."""

    def __init__(self) -> None:
        self.fmt: list[str] = []
        self.args: list[Callable[[Any, tuple], Any]] = []

    def lit(self, s: str) -> None:
        self.fmt.append(s.replace("%", "%%"))


def _is_char_ptr(die: Any) -> bool:
    r = T.resolve(die)
    return r is not None and r.tag == "DW_TAG_pointer_type" and T.is_char(T.subtype(r))


def _is_char_array(die: Any) -> bool:
    r = T.resolve(die)
    return r is not None and r.tag == "DW_TAG_array_type" and T.is_char(T.subtype(r))


def plan_value(p: Plan, die: Any, off: int, depth: int, bit: tuple = (None, 0)) -> None:
    """Append the format of one object of type `die` at loc+off; depth: levels still expanded."""
    k = T.kind(die)
    if k == "float":
        p.fmt.append("?")
        return
    if k in ("int", "enum"):
        rd = scalar_reader(die, off, bit[0], bit[1])
        if T.is_char(die) and bit[0] is None:
            p.fmt.append("'%#c'")
        else:
            p.fmt.append("%d" if (T.is_signed(die) or T.is_bool(die)) else "%u")
        p.args.append(rd)
        return
    if k == "pointer":
        if _is_char_ptr(die):
            prd = pointer_reader(off)
            p.fmt.append("%s")
            p.args.append(lambda c, loc: user_string_quoted(c, prd(c, loc)))
        else:
            p.fmt.append("%#p")
            p.args.append(pointer_reader(off))
        return
    if k == "array":
        if _is_char_array(die):
            if depth <= 0:
                p.fmt.append("[...]")
                return
            p.fmt.append("%s")
            n = T.array_count(T.resolve(die))
            p.args.append(lambda c, loc: _char_array(c, loc, off, n))
            return
        if depth <= 0:
            p.fmt.append("[...]")
            return
        r = T.resolve(die)
        n = T.array_count(r)
        elem = T.subtype(r)
        p.fmt.append("[")
        plan_value(p, elem, off, depth - 1)
        if n is None or n > 1:
            p.fmt.append(", ...")
        p.fmt.append("]")
        return
    if k == "struct":
        if depth <= 0:
            p.fmt.append("{...}")
            return
        plan_struct(p, die, off, depth)
        return
    p.fmt.append("?")


def plan_struct(p: Plan, die: Any, off: int, depth: int) -> None:
    p.fmt.append("{")
    _plan_members(p, die, off, depth, [True])
    p.fmt.append("}")


def _plan_members(p: Plan, die: Any, off: int, depth: int, first: list) -> None:
    """The members of one aggregate; a C++ base class's members follow the class's own,
    at the same level (stap's `{.own=..., .base_member=...}`)."""
    from ..elf.dwarf_types import _member_offset
    bases = []
    for m in T.member_list(die):
        if m.tag == "DW_TAG_inheritance":
            bases.append(m)
            continue
        if not first[0]:
            p.fmt.append(", ")
        first[0] = False
        name = die_name(m)
        moff = off + _member_offset(m)
        mt = T.subtype(m)
        if name is None:
            r = T.resolve(mt)
            label = {"DW_TAG_union_type": "<union>", "DW_TAG_class_type": "<class>"}.get(
                r.tag if r is not None else "", "<struct>")
            p.lit(label + "=")
            plan_value(p, mt, moff, depth - 1)
            continue
        p.lit("." + name + "=")
        bsize, boff = T.bitfield(m)
        if bsize is not None:
            if m.attributes.get("DW_AT_data_bit_offset") is not None:
                moff = off + boff // 8
                boff %= 8
            plan_value(p, mt, moff, depth - 1, (bsize, boff))
        else:
            plan_value(p, mt, moff, depth - 1)
    for b in bases:
        bt = T.subtype(b)
        if bt is not None:
            _plan_members(p, bt, off + _member_offset(b), depth, first)


def _char_array(c: Any, loc: tuple, off: int, n: Optional[int]) -> str:
    if loc[0] == "mem":
        return user_string_quoted(c, loc[1] + off, n)
    from ..builtins.fn_string import text_str_impl
    b = loc[1][off: off + (n or 0)]
    z = b.find(b"\0")
    s = (b if z < 0 else b[:z]).decode("latin-1")
    msl = c.session.maxstringlen
    return text_str_impl(s, msl, msl, True, msl)


def pretty_printer(type_die: Any, pretty: int) -> Callable[[Any, tuple], str]:
    """`$var$` (pretty=1) / `$var$$` (pretty=2) of an object of type type_die at loc."""
    from .formatting import compile_format
    depth = 1 if pretty == 1 else 8
    p = Plan()
    k = T.kind(type_die)
    r = T.resolve(type_die)
    deref = False
    if k == "pointer" and not _is_char_ptr(type_die):
        tgt = T.subtype(r)
        if tgt is not None and T.kind(tgt) not in ("void", "func", "other"):
            deref = True                  # stap prints what a pointer points at
            plan_value(p, tgt, 0, depth)
    if not deref:
        if k == "array" and _is_char_array(type_die):
            plan_value(p, type_die, 0, 1)
        elif k in ("struct", "array"):
            plan_value(p, type_die, 0, depth)
        else:
            plan_value(p, type_die, 0, depth)
    fmt = compile_format("".join(p.fmt), sprintf=True)
    args = p.args
    if deref:
        prd = pointer_reader(0)

        def run_deref(c: Any, loc: tuple) -> str:
            try:
                target = ("mem", prd(c, loc))
                return fmt(tuple(a(c, target) for a in args))
            except Fault:
                return "ERROR"
        return run_deref

    def run(c: Any, loc: tuple) -> str:
        try:
            return fmt(tuple(a(c, loc) for a in args))
        except Fault:
            return "ERROR"
    return run
