"""Guru-mode writes to target variables: `$var = v`, `$p->f = v`, `$a[i] = v`, `@var(...)`, `@cast(...)`.

What stap 4.8 does (its `-g -p3` C, and its pass-2 errors), mirrored:
  - only `=` assigns a target variable: `+=`, `++` and the like are the error "Only the
    following assign operator is implemented on target variables:  =" at the operator;
  - the value is the script's 64-bit number; the assignment's value is that number;
  - an object in memory gets the low `sizeof(type)` bytes of it (store_uderef: a
    `char` gets one byte, a `short` two), a bitfield is read, masked and written back;
    a failed write is `write fault [man error::fault] at 0x...`;
  - a variable living in a register gets the whole 64-bit value in that register
    (u_store_register), written back to the thread when it resumes (the engine resumes
    with `ctx.regs`);
  - a value that is not an object (DW_OP_stack_value, DW_OP_implicit_value, pieces, a
    DW_AT_const_value) is "Expecting lvalue for assignment" at the variable;
  - `$$vars`/`$$parms`/...: "cannot write to context variable", `$var$`: "cannot write
    to pretty-printed variable", `&$var`: "cannot write to member address", an array:
    "cannot write to array address"; a `.return` probe's variables (entry values):
    "write to target variable not permitted in .return probes".
`classify(...)` tells, at pass 2, where a variable's location puts it; `make_store(...)`
builds the run-time `store(ctx, value, *args)`.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .elf import dies as D
from .elf import dwarf_types as T
from .elf.cfi import DWARF_REGS
from .elf.dwarf_locations import M64, Fault, location_expr

ONLY_ASSIGN = "Only the following assign operator is implemented on target variables:  ="
NOT_LVALUE = "Expecting lvalue for assignment"


class StoreFault(Exception):
    def __init__(self, addr: int) -> None:
        super().__init__(addr)
        self.addr = addr


def classify(die: Any, pc: int, dwarfinfo: Any, structs: Any) -> tuple:
    """Where a variable's object is at pc: ("mem",), ("reg", regs attribute) or ("value",)."""
    if D.attr_integrate(die, "DW_AT_const_value") is not None:
        return ("value",)
    expr = location_expr(die, pc, dwarfinfo)
    if not expr:
        return ("value",)
    from elftools.dwarf.dwarf_expr import DWARFExprParser
    try:
        ops = DWARFExprParser(structs).parse_expr(list(expr))
    except Exception:
        return ("value",)
    names = [op.op_name for op in ops]
    if any(nm in ("DW_OP_stack_value", "DW_OP_implicit_value", "DW_OP_piece", "DW_OP_bit_piece",
                  "DW_OP_implicit_pointer", "DW_OP_GNU_implicit_pointer") for nm in names):
        return ("value",)
    if len(ops) == 1 and (names[0] == "DW_OP_regx" or (names[0].startswith("DW_OP_reg")
                                                         and names[0] != "DW_OP_regval_type")):
        r = ops[0].args[0] if names[0] == "DW_OP_regx" else int(names[0][9:])
        if r >= len(DWARF_REGS) - 1:
            return ("value",)
        return ("reg", DWARF_REGS[r])
    return ("mem",)


def _write_mem(c: Any, addr: int, data: bytes) -> None:
    try:
        c.memory.write(addr & M64, data)
    except (OSError, ValueError, OverflowError):
        raise StoreFault(addr) from None


def make_store(type_die: Any, loc_fn: Callable, lvalue: tuple, direct: bool,
               bits: Optional[tuple[int, int]]) -> Callable:
    """`store(ctx, value, *args) -> value` for an object of type_die at loc_fn(ctx, args).

    `direct`: the object is the base variable itself (no dereference on the way), so the
    base's lvalue kind decides (a register, or memory); otherwise it is in memory."""
    if direct and lvalue[0] == "reg":
        attr = lvalue[1]

        def store_reg(c: Any, value: int, *a: Any) -> int:
            setattr(c.regs, attr, value & M64)
            return value
        return store_reg
    size = 8 if T.kind(type_die) == "pointer" else max(1, min(T.size_of(type_die) or 8, 8))
    if bits is not None:
        bsize, boff = bits
        nbytes = (boff + bsize + 7) // 8
        mask = ((1 << bsize) - 1) << boff

        def store_bits(c: Any, value: int, *a: Any) -> int:
            loc = loc_fn(c, a)
            if loc[0] != "mem":
                raise StoreFault(0)
            from .elf.dwarf_locations import read_mem
            try:
                raw = int.from_bytes(read_mem(c, loc[1], nbytes), "little")
            except Fault as f:
                raise StoreFault(f.addr) from None
            raw = (raw & ~mask) | ((value << boff) & mask)
            _write_mem(c, loc[1], raw.to_bytes(nbytes, "little"))
            return value
        return store_bits

    def store_mem(c: Any, value: int, *a: Any) -> int:
        loc = loc_fn(c, a)
        if loc[0] != "mem":
            raise StoreFault(0)
        _write_mem(c, loc[1], (value & M64).to_bytes(8, "little")[:size])
        return value
    return store_mem


def check_store(e: Any, sc: Any) -> None:
    """stap's pass-2 refusals of a write, before the variable is looked up."""
    from .target_vars import TVError
    if e.name in ("$$vars", "$$parms", "$$locals", "$$return"):
        raise TVError("cannot write to context variable", e.tok)
    if e.pretty:
        raise TVError("cannot write to pretty-printed variable", e.tok)
    if e.addressof:
        raise TVError("cannot write to member address", e.tok)
    if sc.is_return and e.name != "$return":
        raise TVError("write to target variable not permitted in .return probes", e.tok)


def store_access(e: Any, cur: Any, base: Callable, steps: list, loc_fn: Callable,
                 bits: Optional[tuple[int, int]], nargs: int, ctoks: list) -> Any:
    """The Access whose fn(ctx, value, *args) stores into the object the chain ends at."""
    from .symbols import LONG
    from .target_vars import Access, TVError, struct_not_member
    k = T.kind(cur)
    if k == "struct":
        raise struct_not_member(e, cur, ctoks)
    if k == "array":
        raise TVError("cannot write to array address", e.tok)
    if k == "void":
        raise TVError("invalid access of void target", e.tok)
    lvalue = getattr(base, "lvalue", ("mem",))
    direct = not any(s[0] in ("deref", "index") for s in steps)
    if direct and lvalue[0] == "value":
        err = TVError(NOT_LVALUE, e.tok)
        err.related = [e.tok]                 # type: ignore[attr-defined]
        raise err
    if direct and lvalue[0] == "reg" and any(s[0] in ("off", "bits") and (s[0] == "bits" or s[1]) for s in steps):
        err = TVError(NOT_LVALUE, e.tok)      # a member of an aggregate held in a register
        err.related = [e.tok]                 # type: ignore[attr-defined]
        raise err
    return Access(LONG, make_store(cur, loc_fn, lvalue, direct, bits), nargs)
