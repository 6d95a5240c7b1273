"""`function(ADDRESS)` and `statement(ADDRESS)` process probes, resolved as stap 4.8 does.

  - `function(A)`: the innermost DWARF function scope containing A (libdw's getscopes:
    an inline instance, else the subprogram; stap does not look at the symbol table for
    these). A subprogram's probe goes where `function("NAME")` puts it (after the
    prologue), an inline instance's at its entry; `.call`/`.return` match nothing when
    that scope is an inline instance, as in stap. stap's pp keeps the number as written
    (in hex); its derivation comment names the probe's own address.
  - `statement(A)`: A must start a row of the line table of the CU that holds it (else
    stap's "address A does not match the beginning of a statement (try B)", B being the
    start of the row A falls in) and lie in a function scope.
Addresses are ELF vaddrs of the binary (module-relative for a PIE, as stap takes them).
"""
from __future__ import annotations

import bisect
from typing import Any, Optional

from . import dies as D
from .dwarf_index import DwarfIndex
from .image import ElfImage
from .query import Query, QueryError, Site, parse_spec


class AddressError(Exception):
    """An address stap rejects with a message of its own before "no match"."""


SCOPES = ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine", "DW_TAG_lexical_block", "DW_TAG_try_block",
          "DW_TAG_catch_block", "DW_TAG_with_stmt", "DW_TAG_entry_point")
CONTAINERS = ("DW_TAG_namespace", "DW_TAG_class_type", "DW_TAG_structure_type", "DW_TAG_union_type",
              "DW_TAG_module")


def scopes_at(index: DwarfIndex, cu_off: int, addr: int) -> list[Any]:
    """libdw's dwarf_getscopes: the DIEs whose code contains addr, innermost first."""
    chain: list[Any] = []
    dwarfinfo = index.dwarfinfo

    def visit(die: Any) -> bool:
        for child in die.iter_children():
            if child.tag in SCOPES:
                if D.has_pc(D.die_ranges(child, dwarfinfo), addr):
                    chain.append(child)
                    visit(child)
                    return True
            elif child.tag in CONTAINERS and child.has_children and visit(child):
                return True
        return False

    visit(index.cu_object(cu_off).get_top_DIE())
    return chain[::-1]


def function_at(image: ElfImage, index: Optional[DwarfIndex], addr: int, call: bool = False,
                ret: bool = False) -> Optional[Site]:
    """The probe site of the innermost function containing `addr` (an inline instance
    unless `.call`/`.return`), None when none does."""
    if index is None:
        return None
    for cu_off in index.cus_for_addr(addr):
        for die in scopes_at(index, cu_off, addr):
            if die.tag not in ("DW_TAG_inlined_subroutine", "DW_TAG_subprogram"):
                continue
            if die.tag == "DW_TAG_inlined_subroutine" and (call or ret):
                return None             # stap takes the innermost function scope, then filters
            if die.tag == "DW_TAG_inlined_subroutine":
                entry = D.dwarf_entrypc(die)
                if entry is None:
                    entry = D.first_range_start(D.die_ranges(die, index.dwarfinfo))
                if entry is None:
                    return None
                name = D.die_name(die) or ""
                return Site(name, name, entry, cu=cu_off, func_die=die.offset, scope_die=die.offset,
                            entrypc=entry)
            if die.tag == "DW_TAG_subprogram":
                f = next((f for f in index.cu(cu_off).funcs if f.off == die.offset), None)
                if f is None:
                    return None
                try:
                    sites = Query(image, index, parse_spec(f.name), False, call=call, ret=ret).run()
                except QueryError:
                    return None
                return next((s for s in sites if s.func_die == f.off), None)
    return None                     # stap: only DWARF functions are found by address


def statement_at(image: ElfImage, index: Optional[DwarfIndex], addr: int) -> Optional[Site]:
    """The statement probe site at `addr`; AddressError when it is inside a row."""
    if index is None:
        return None
    for cu_off in index.cus_for_addr(addr):
        table = index.lines(cu_off)
        starts = [r.addr for r in table.rows if not r.end_sequence]
        i = bisect.bisect_right(starts, addr) - 1
        if i < 0:
            continue
        if starts[i] != addr:
            raise AddressError(f"address {addr:#x} does not match the beginning of a statement "
                               f"(try {starts[i]:#x})")
        scopes = scopes_at(index, cu_off, addr)
        fn = next((d for d in scopes if d.tag in ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine")), None)
        if fn is None:
            return None                 # stap wants a function scope around the statement
        name = D.die_name(fn) or f"{addr:#x}"
        return Site(name, name, addr, cu=cu_off, func_die=fn.offset, scope_die=scopes[0].offset,
                    entrypc=D.dwarf_entrypc(fn))
    return None
