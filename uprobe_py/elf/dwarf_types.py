"""C/C++ types from DWARF as target-variable accesses see them.

`resolve(die)` strips typedefs and cv-qualifiers (references read through, as stap
does); `kind(die)` classifies a type: "int" (with size and signedness), "float",
"pointer", "array", "struct" (also union/class), "enum", "void", "func", "other".
`members(die)` lists a struct's members as (name, DIE), anonymous struct/union
members flattened the way stap finds them; `find_member(die, name)` gives the byte
offset, member DIE and bitfield geometry of one (through anonymous members).
`type_desc(die)` is how stap names a type in its errors ("struct inner", "int").
"""
from __future__ import annotations

from typing import Any, Optional

from . import dies as D

STRIP = ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type",
         "DW_TAG_atomic_type", "DW_TAG_immutable_type", "DW_TAG_packed_type", "DW_TAG_shared_type")
AGGREGATES = ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type")
REFERENCES = ("DW_TAG_reference_type", "DW_TAG_rvalue_reference_type")
SIGNED_ENC = {0x05, 0x06, 0x0D}          # DW_ATE_signed, signed_char, signed_fixed
UNSIGNED_ENC = {0x02, 0x07, 0x08, 0x10, 0x0E}   # boolean, unsigned, unsigned_char, UTF, unsigned_fixed
CHAR_ENC = {0x06, 0x08}
FLOAT_ENC = {0x04, 0x03, 0x09}           # float, complex_float, imaginary_float


def subtype(die: Any) -> Optional[Any]:
    return D.ref_integrate(die, "DW_AT_type") if die is not None else None


def resolve(die: Any) -> Optional[Any]:
    """The type with typedefs and qualifiers removed (None for void)."""
    for _ in range(64):
        if die is None or die.tag not in STRIP:
            return die
        die = subtype(die)
    return die


def size_of(die: Any) -> int:
    die = resolve(die)
    if die is None:
        return 1
    a = D.attr_integrate(die, "DW_AT_byte_size")
    if a is not None:
        return a.value
    if die.tag in ("DW_TAG_pointer_type",) + REFERENCES:
        return 8
    if die.tag == "DW_TAG_array_type":
        n = array_count(die)
        return (n or 0) * size_of(subtype(die))
    if die.tag == "DW_TAG_enumeration_type":
        return size_of(subtype(die)) if subtype(die) is not None else 4
    return 0


def kind(die: Any) -> str:
    die = resolve(die)
    if die is None:
        return "void"
    tag = die.tag
    if tag == "DW_TAG_base_type":
        enc = die.attributes.get("DW_AT_encoding")
        e = enc.value if enc is not None else 0x05
        return "float" if e in FLOAT_ENC else "int"
    if tag == "DW_TAG_enumeration_type":
        return "enum"
    if tag in ("DW_TAG_pointer_type",) + REFERENCES or tag == "DW_TAG_ptr_to_member_type":
        return "pointer"
    if tag == "DW_TAG_array_type":
        return "array"
    if tag in AGGREGATES:
        return "struct"
    if tag == "DW_TAG_subroutine_type":
        return "func"
    return "other"


def is_signed(die: Any) -> bool:
    die = resolve(die)
    if die is None:
        return False
    if die.tag == "DW_TAG_enumeration_type":
        st = subtype(die)
        if st is not None:
            return is_signed(st)
        return False
    enc = die.attributes.get("DW_AT_encoding")
    return enc is not None and enc.value in SIGNED_ENC


def is_char(die: Any) -> bool:
    die = resolve(die)
    if die is None or die.tag != "DW_TAG_base_type":
        return False
    enc = die.attributes.get("DW_AT_encoding")
    return enc is not None and enc.value in CHAR_ENC and size_of(die) == 1


def is_bool(die: Any) -> bool:
    die = resolve(die)
    enc = die.attributes.get("DW_AT_encoding") if die is not None and die.tag == "DW_TAG_base_type" else None
    return enc is not None and enc.value == 0x02


def array_dims(die: Any) -> list[Optional[int]]:
    out = []
    for ch in die.iter_children():
        if ch.tag != "DW_TAG_subrange_type":
            continue
        if "DW_AT_count" in ch.attributes and isinstance(ch.attributes["DW_AT_count"].value, int):
            out.append(ch.attributes["DW_AT_count"].value)
        elif "DW_AT_upper_bound" in ch.attributes and isinstance(ch.attributes["DW_AT_upper_bound"].value, int):
            lo = ch.attributes.get("DW_AT_lower_bound")
            out.append(ch.attributes["DW_AT_upper_bound"].value + 1 - (lo.value if lo is not None else 0))
        else:
            out.append(None)
    return out or [None]


def array_count(die: Any) -> Optional[int]:
    return array_dims(die)[0]


class ArrayLevel:
    """One dimension of a (possibly multi-dimensional) array: its element type for `[i]`."""

    def __init__(self, die: Any, dims: list[Optional[int]]) -> None:
        self.die = die
        self.dims = dims

    def elem_size(self) -> int:
        inner = 1
        for d in self.dims[1:]:
            inner *= d or 0
        return inner * size_of(subtype(self.die))


def type_desc(die: Any) -> str:
    """How stap's errors name a type: `struct inner`, `int`, `char*`."""
    from .dwarf_vars import type_name
    if die is None:
        return "void"
    return type_name(die) or "?"


def decl_loc(die: Any) -> str:
    """ (FILE:LINE) of a type's declaration, as stap appends it to its messages."""
    fa = D.attr_integrate(die, "DW_AT_decl_file")
    la = D.attr_integrate(die, "DW_AT_decl_line")
    if fa is None or la is None:
        return ""
    from .lines import file_names
    try:
        files = file_names(die.dwarfinfo, die.cu)
    except Exception:
        return ""
    i = fa.value
    if not 0 <= i < len(files) or files[i] is None:
        return ""
    return f" ({files[i]}:{la.value})"


def _member_offset(m: Any) -> int:
    a = m.attributes.get("DW_AT_data_member_location")
    if a is None:
        return 0
    if isinstance(a.value, int):
        return a.value
    v = list(a.value)
    if v and v[0] == 0x23:            # DW_OP_plus_uconst
        from elftools.common.utils import struct_parse  # noqa: F401
        n, shift = 0, 0
        for b in v[1:]:
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return n
    return 0


def member_list(die: Any) -> list[Any]:
    """Direct data members (DW_TAG_member, and C++ base classes as members of their own)."""
    die = resolve(die)
    if die is None or die.tag not in AGGREGATES:
        return []
    return [ch for ch in die.iter_children() if ch.tag in ("DW_TAG_member", "DW_TAG_inheritance")
            and "DW_AT_external" not in ch.attributes and "DW_AT_declaration" not in ch.attributes]


def member_names(die: Any) -> list[str]:
    """Every name `->` can reach, through anonymous members and base classes."""
    out: list[str] = []
    for m in member_list(die):
        name = D.die_name(m)
        if m.tag == "DW_TAG_inheritance" or name is None:
            out.extend(member_names(subtype(m)))
        else:
            out.append(name)
    return out


class Member:
    __slots__ = ("offset", "die", "type", "bit_size", "bit_offset")

    def __init__(self, offset: int, die: Any, bit_size: Optional[int], bit_offset: int) -> None:
        self.offset, self.die, self.type = offset, die, subtype(die)
        self.bit_size, self.bit_offset = bit_size, bit_offset


def bitfield(m: Any) -> tuple[Optional[int], int]:
    """(bit size, bit offset from the start of the member's storage unit, little-endian)."""
    bs = m.attributes.get("DW_AT_bit_size")
    if bs is None:
        return None, 0
    dbo = m.attributes.get("DW_AT_data_bit_offset")
    if dbo is not None:
        return bs.value, dbo.value
    bo = m.attributes.get("DW_AT_bit_offset")       # DWARF 2/3: from the MSB of the storage unit
    if bo is not None:
        unit = m.attributes.get("DW_AT_byte_size")
        usize = unit.value if unit is not None else size_of(subtype(m))
        return bs.value, usize * 8 - bo.value - bs.value
    return bs.value, 0


def find_member(die: Any, name: str, base: int = 0) -> Optional[Member]:
    for m in member_list(die):
        mname = D.die_name(m)
        off = base + _member_offset(m)
        if m.tag == "DW_TAG_inheritance" or mname is None:
            got = find_member(subtype(m), name, off)
            if got is not None:
                return got
            continue
        if mname == name:
            bsize, boff = bitfield(m)
            if bsize is not None and m.attributes.get("DW_AT_data_bit_offset") is not None:
                off = base + boff // 8
                # keep the unit aligned: read the containing bytes
                boff = boff % 8
                return Member(off, m, bsize, boff)
            return Member(off, m, bsize, boff)
    return None
