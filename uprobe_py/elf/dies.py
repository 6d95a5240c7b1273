"""Small DIE helpers with libdw's semantics, over pyelftools DIEs.

stap asks libdw; these functions answer the same questions the same way:
`attr_integrate` (follow DW_AT_abstract_origin / DW_AT_specification as
dwarf_attr_integrate does), `die_name`, `linkage_name`, `func_inline`
(dwarf_func_inline: any DW_AT_inline but DW_INL_not_inlined), `dwarf_entrypc`
(DW_AT_entry_pc, else DW_AT_low_pc, and only address forms), `die_ranges`
(DW_AT_low_pc/high_pc or DW_AT_ranges, v4 and v5), `has_pc`, and
`location_at` (dwarf_getlocation_addr: does a variable have a location at pc).
"""
from __future__ import annotations

from typing import Any, Optional

INL_NOT_INLINED = 0
ADDR_FORMS = ("DW_FORM_addr", "DW_FORM_addrx", "DW_FORM_addrx1", "DW_FORM_addrx2",
              "DW_FORM_addrx3", "DW_FORM_addrx4", "DW_FORM_GNU_addr_index")
EXPR_FORMS = ("DW_FORM_exprloc", "DW_FORM_block", "DW_FORM_block1", "DW_FORM_block2", "DW_FORM_block4")


def attr_integrate(die: Any, name: str) -> Any:
    """The attribute on the DIE or, failing that, on its abstract origin or specification."""
    d = die
    for _ in range(16):
        a = d.attributes.get(name)
        if a is not None:
            return a
        ref = d.attributes.get("DW_AT_abstract_origin") or d.attributes.get("DW_AT_specification")
        if ref is None:
            return None
        try:
            d = d.get_DIE_from_attribute("DW_AT_abstract_origin" if "DW_AT_abstract_origin" in d.attributes
                                         else "DW_AT_specification")
        except Exception:
            return None
    return None


def ref_integrate(die: Any, name: str) -> Any:
    """dwarf_attr_die: the DIE a reference attribute (found with integration) points at."""
    d = die
    for _ in range(16):
        if name in d.attributes:
            try:
                return d.get_DIE_from_attribute(name)
            except Exception:
                return None
        key = "DW_AT_abstract_origin" if "DW_AT_abstract_origin" in d.attributes else (
            "DW_AT_specification" if "DW_AT_specification" in d.attributes else None)
        if key is None:
            return None
        try:
            d = d.get_DIE_from_attribute(key)
        except Exception:
            return None
    return None


def text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def die_name(die: Any) -> Optional[str]:
    a = attr_integrate(die, "DW_AT_name")
    return text(a.value) if a is not None else None


def linkage_name(die: Any) -> Optional[str]:
    a = attr_integrate(die, "DW_AT_linkage_name") or attr_integrate(die, "DW_AT_MIPS_linkage_name")
    return text(a.value) if a is not None else None


def func_inline(die: Any) -> bool:
    a = die.attributes.get("DW_AT_inline")
    return a is not None and a.value != INL_NOT_INLINED


def low_pc(die: Any) -> Optional[int]:
    a = die.attributes.get("DW_AT_low_pc")
    return a.value if a is not None and a.form in ADDR_FORMS else None


def dwarf_entrypc(die: Any) -> Optional[int]:
    """libdw's dwarf_entrypc: DW_AT_entry_pc if present (an address form), else DW_AT_low_pc."""
    a = die.attributes.get("DW_AT_entry_pc") or die.attributes.get("DW_AT_low_pc")
    if a is None or a.form not in ADDR_FORMS:
        return None
    return a.value


def cu_base(cu: Any) -> int:
    top = cu.get_top_DIE()
    return low_pc(top) or 0


def die_ranges(die: Any, dwarfinfo: Any) -> list[tuple[int, int]]:
    """The address ranges a DIE covers, [lo, hi) absolute."""
    a = die.attributes
    lo = low_pc(die)
    if lo is not None and "DW_AT_high_pc" in a:
        hi = a["DW_AT_high_pc"]
        return [(lo, hi.value if hi.form in ADDR_FORMS else lo + hi.value)]
    r = a.get("DW_AT_ranges")
    if r is None:
        return []
    rl = dwarfinfo.range_lists()
    if rl is None:
        return []
    base = cu_base(die.cu)
    out = []
    try:
        entries = rl.get_range_list_at_offset(r.value, cu=die.cu)
    except Exception:
        return []
    for e in entries:
        if hasattr(e, "base_address"):
            base = e.base_address
        elif e.is_absolute:
            out.append((e.begin_offset, e.end_offset))
        else:
            out.append((base + e.begin_offset, base + e.end_offset))
    return out                 # empty ranges kept: libdw reports them (they can be the first)


def first_range_start(ranges: list[tuple[int, int]]) -> Optional[int]:
    return ranges[0][0] if ranges else None


def has_pc(ranges: list[tuple[int, int]], pc: int) -> bool:
    for lo, hi in ranges:
        if lo <= pc < hi:
            return True
    return False


def location_at(die: Any, pc: int, dwarfinfo: Any) -> bool:
    """True when the variable has a non-empty location (or a constant value) at pc."""
    if attr_integrate(die, "DW_AT_const_value") is not None:
        return True
    a = attr_integrate(die, "DW_AT_location")
    if a is None:
        return False
    if a.form in EXPR_FORMS:
        return len(a.value) > 0
    if a.form not in ("DW_FORM_sec_offset", "DW_FORM_loclistx", "DW_FORM_data4", "DW_FORM_data8"):
        return False
    hit, _default = loclist_lookup(die, a, pc, dwarfinfo) or (None, None)
    return hit is not None and len(hit) > 0


def loclist_lookup(die: Any, attr: Any, pc: int, dwarfinfo: Any) -> Optional[tuple[Any, Any]]:
    """Walk the location list `attr` (die's DW_AT_location) for pc: (the expression of the
    first entry covering pc, else None; the last DW_LLE_default_location expression before
    it, else None). None when the list cannot be read."""
    ll = dwarfinfo.location_lists()
    if ll is None:
        return None
    try:
        entries = ll.get_location_list_at_offset(attr.value, die=die)
    except Exception:
        return None
    base = cu_base(die.cu)
    default = None
    for e in entries:
        if hasattr(e, "base_address"):
            base = e.base_address
        elif hasattr(e, "loc_expr"):
            if e.begin_offset == -1:        # DW_LLE_default_location
                default = e.loc_expr
                continue
            lo, hi = (e.begin_offset, e.end_offset) if e.is_absolute else (base + e.begin_offset, base + e.end_offset)
            if lo <= pc < hi:
                return e.loc_expr, default
    return None, default


def has_loclist(die: Any) -> bool:
    a = die.attributes.get("DW_AT_location")
    return a is not None and a.form == "DW_FORM_sec_offset"
