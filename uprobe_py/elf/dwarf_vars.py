"""Context variables as stap's `-L` lists them: `$name:type` for a probe's scope at its pc.

`type_name(die)` is stap's dwarf_type_name (dwarf_wrappers.cxx): `struct point*`,
`char const*`, `class Counter* const`, `int (*) (int)`, anonymous aggregates as
`struct {...}`, va_list; an unnamable type (e.g. a pointer-to-member) gives None.
`scope_vars(...)` is dwarf_derived_probe::saveargs: every named parameter and variable
of the scope and its enclosing scopes up to (not including) the CU, kept only when
its location is defined at the probe's pc and its type can be named; `.return`
probes start with `$return`. `inner_scope(...)` is dwflpp::inner_die_containing_pc,
the lexical block a statement probe sits in.
"""
from __future__ import annotations

from typing import Any, Optional

from . import dies as D

AGGREGATE_PREFIX = {"DW_TAG_enumeration_type": "enum ", "DW_TAG_structure_type": "struct ",
                    "DW_TAG_union_type": "union ", "DW_TAG_class_type": "class "}
MODIFIER_SUFFIX = {"DW_TAG_reference_type": "&", "DW_TAG_rvalue_reference_type": "&&",
                   "DW_TAG_pointer_type": "*", "DW_TAG_array_type": "[]", "DW_TAG_const_type": " const",
                   "DW_TAG_volatile_type": " volatile", "DW_TAG_restrict_type": " restrict"}
REFERENCES = ("DW_TAG_reference_type", "DW_TAG_rvalue_reference_type")
LEXICAL = ("DW_TAG_lexical_block", "DW_TAG_with_stmt", "DW_TAG_catch_block", "DW_TAG_try_block",
           "DW_TAG_entry_point")


def _name(die: Any, sub: list[Any]) -> Optional[str]:
    tag = die.tag
    if tag in AGGREGATE_PREFIX or tag in ("DW_TAG_typedef", "DW_TAG_base_type"):
        return AGGREGATE_PREFIX.get(tag, "") + (D.die_name(die) or "{...}")
    if tag == "DW_TAG_subroutine_type":
        sub[0] = die
        return ""
    if tag not in MODIFIER_SUFFIX:
        return None
    subtype = D.ref_integrate(die, "DW_AT_type")
    if subtype is not None and tag == "DW_TAG_pointer_type" and subtype.tag == "DW_TAG_structure_type" \
            and D.die_name(subtype) == "__va_list_tag":
        return "va_list"
    inner = _name(subtype, sub) if subtype is not None else None
    if inner is None:
        inner = "void"
    if tag == "DW_TAG_const_type" and subtype is not None and subtype.tag in REFERENCES:
        return inner
    return inner + MODIFIER_SUFFIX[tag]


def _subroutine(die: Any, modifier: str) -> Optional[str]:
    ret = D.ref_integrate(die, "DW_AT_type")
    rs = type_name(ret) if ret is not None else "void"
    if rs is None:
        return None
    params = []
    for child in die.iter_children():
        if child.tag == "DW_TAG_unspecified_parameters":
            params.append("...")
        elif child.tag == "DW_TAG_formal_parameter":
            t = D.ref_integrate(child, "DW_AT_type")
            ts = type_name(t) if t is not None else "void"
            if ts is None:
                return None
            params.append(ts)
    return f"{rs} ({modifier}) ({', '.join(params) or 'void'})"


def type_name(die: Any) -> Optional[str]:
    sub: list[Any] = [None]
    s = _name(die, sub)
    if s is None:
        return None
    if sub[0] is not None:
        return _subroutine(sub[0], s)
    return s


def getscopes(die: Any) -> list[Any]:
    """dwflpp::getscopes(die): the DIE, then its parents (through an inline's origin)."""
    out = []
    scope = die
    for _ in range(256):
        if scope is None:
            break
        out.append(scope)
        if scope.tag == "DW_TAG_inlined_subroutine" and "DW_AT_abstract_origin" in scope.attributes:
            try:
                scope = scope.get_DIE_from_attribute("DW_AT_abstract_origin")
            except Exception:
                break
        scope = scope.get_parent()
    return out


def scope_vars(scope_die: Any, pc: int, dwarfinfo: Any, func_die: Any = None, is_return: bool = False) -> list[str]:
    out: list[str] = []
    if is_return and func_die is not None:
        t = D.ref_integrate(func_die, "DW_AT_type")
        tn = type_name(t) if t is not None else None
        if tn is not None:
            out.append("$return:" + tn)
    for scope in getscopes(scope_die):
        if scope.tag == "DW_TAG_compile_unit":
            break
        for child in scope.iter_children():
            if child.tag not in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                continue
            name = D.die_name(child)
            if not name or not D.location_at(child, pc, dwarfinfo):
                continue
            t = D.ref_integrate(child, "DW_AT_type")
            tn = type_name(t) if t is not None else None
            if tn is not None:
                out.append(f"${name}:{tn}")
    return out


def inner_scope(func_die: Any, pc: int, dwarfinfo: Any) -> Any:
    """The innermost lexical scope of the function containing pc (not crossing into inlines)."""
    result = func_die
    if not D.has_pc(D.die_ranges(func_die, dwarfinfo), pc):
        return result
    changed = True
    while changed:
        changed = False
        for child in result.iter_children():
            if child.tag in LEXICAL and D.has_pc(D.die_ranges(child, dwarfinfo), pc):
                result = child
                changed = True
                break
    return result
