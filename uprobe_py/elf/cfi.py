"""Call frame information: the CFI row (CFA rule and register rules) that applies at a pc.

`frame_table(image)` gives one `FrameTable` per ElfImage (cached): the binary's
`.eh_frame`, else the `.debug_frame` of the binary or of its separate debug file.
Nothing is decoded up front: FDEs are indexed by pc range (from `.eh_frame_hdr`'s
sorted search table when there is one, else by a header-only scan of the section),
and `row(pc)` decodes only the FDE covering pc, with pyelftools' CallFrameInfo
(its per-entry parser and CFI table decoder). pcs are ELF vaddrs (unrelocated).

Shared API (also used for user-space unwinding):
    DWARF_REGS            x86_64 DWARF register number -> UserRegs attribute name
    FrameRow              .cfa ('reg', regno, offset) | ('expr', bytes);
                          .rules {regno: ('offset', n) | ('val_offset', n) | ('register', r) |
                                  ('same',) | ('undefined',) | ('expr', bytes) | ('val_expr', bytes)};
                          .ra (the return-address column)
    frame_table(image) -> FrameTable;  FrameTable.row(pc) -> Optional[FrameRow]
"""
from __future__ import annotations

import bisect
import io
import struct
import threading
from typing import Any, Optional

DWARF_REGS: tuple[str, ...] = ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
                               "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip")

_RULES = {"OFFSET": "offset", "VAL_OFFSET": "val_offset", "REGISTER": "register",
          "SAME_VALUE": "same", "UNDEFINED": "undefined", "EXPRESSION": "expr",
          "VAL_EXPRESSION": "val_expr"}


class FrameRow:
    __slots__ = ("cfa", "rules", "ra")

    def __init__(self, cfa: tuple, rules: dict[int, tuple], ra: int) -> None:
        self.cfa = cfa
        self.rules = rules
        self.ra = ra

    def __repr__(self) -> str:
        return f"FrameRow(cfa={self.cfa!r}, rules={self.rules!r}, ra={self.ra})"


class _Section:
    """One CFI section: its bytes, vaddr, kind, and the pyelftools parser over it."""

    def __init__(self, data: bytes, addr: int, eh: bool, little: bool, addr_size: int) -> None:
        from elftools.dwarf.callframe import CallFrameInfo
        from elftools.dwarf.structs import DWARFStructs
        self.data = data
        self.addr = addr
        self.eh = eh
        self.little = little
        self.structs = DWARFStructs(little_endian=little, dwarf_format=32, address_size=addr_size)
        self.cfi = CallFrameInfo(stream=io.BytesIO(data), size=len(data), address=addr,
                                 base_structs=self.structs, for_eh_frame=eh)
        self.lock = threading.Lock()

    def entry(self, off: int) -> Any:
        with self.lock:
            return self.cfi._parse_entry_at(off)


class FrameTable:
    def __init__(self, sections: list[_Section], hdr: Optional[tuple[bytes, int]]) -> None:
        self._sections = sections
        self._hdr = hdr
        self._starts: Optional[list[int]] = None
        self._fdes: list[tuple[int, int, _Section, int]] = []   # (lo, hi or -1 unknown, section, offset)
        self._rows: dict[int, Optional[FrameRow]] = {}
        self._decoded: dict[tuple[int, int], Any] = {}

    # --- the index -----------------------------------------------------------
    def _index(self) -> None:
        if self._starts is not None:
            return
        fdes: list[tuple[int, int, _Section, int]] = []
        if self._hdr is not None and self._sections and self._sections[0].eh:
            fdes = self._from_hdr(self._sections[0])
        if not fdes:
            for sec in self._sections:
                fdes += self._scan(sec)
        fdes.sort(key=lambda f: f[0])
        self._fdes = fdes
        self._starts = [f[0] for f in fdes]

    def _from_hdr(self, sec: _Section) -> list[tuple[int, int, _Section, int]]:
        assert self._hdr is not None
        data, hdr_addr = self._hdr
        if len(data) < 4 or data[0] != 1:
            return []
        ptr_enc, cnt_enc, tab_enc = data[1], data[2], data[3]
        pos = 4
        try:
            _eh_ptr, pos = _read_enc(data, pos, ptr_enc, hdr_addr, self._hdr[1], sec.little)
            count, pos = _read_enc(data, pos, cnt_enc, hdr_addr, self._hdr[1], sec.little)
        except ValueError:
            return []
        if tab_enc != 0x3B:              # DW_EH_PE_datarel | sdata4: what every linker writes
            return []
        out = []
        for lo, fde in struct.iter_unpack("<ii", data[pos: pos + 8 * count]):
            out.append((hdr_addr + lo, -1, sec, hdr_addr + fde - sec.addr))
        return out

    def _scan(self, sec: _Section) -> list[tuple[int, int, _Section, int]]:
        """Header-only walk over a CFI section: each FDE's pc range and offset."""
        data, out, off = sec.data, [], 0
        end = "<" if sec.little else ">"
        while off + 4 <= len(data):
            length = struct.unpack_from(end + "I", data, off)[0]
            if length == 0:
                if sec.eh:
                    off += 4
                    continue
                break
            if length == 0xFFFFFFFF:          # 64-bit DWARF: let pyelftools parse it
                hdr_len, id_size = 12, 8
                length = struct.unpack_from(end + "Q", data, off + 4)[0]
            else:
                hdr_len, id_size = 4, 4
            body = off + hdr_len
            cie_id = int.from_bytes(data[body: body + id_size], "little" if sec.little else "big")
            is_cie = cie_id == 0 if sec.eh else cie_id in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
            if not is_cie:
                if sec.eh:
                    try:
                        h = sec.entry(off).header
                        out.append((h["initial_location"], h["initial_location"] + h["address_range"], sec, off))
                    except Exception:
                        pass
                else:
                    lo, rng = struct.unpack_from(end + "QQ", data, body + id_size)
                    out.append((lo, lo + rng, sec, off))
            off = body + length
        return out

    # --- lookups ---------------------------------------------------------------
    def fde_range(self, pc: int) -> Optional[tuple[int, int]]:
        f = self._find(pc)
        return (f[0], f[1]) if f is not None else None

    def _find(self, pc: int) -> Optional[tuple[int, int, _Section, int]]:
        self._index()
        assert self._starts is not None
        i = bisect.bisect_right(self._starts, pc) - 1
        while i >= 0:
            lo, hi, sec, off = self._fdes[i]
            if hi < 0:
                try:
                    h = sec.entry(off).header
                except Exception:
                    return None
                hi = lo + h["address_range"]
                self._fdes[i] = (lo, hi, sec, off)
            if lo <= pc < hi:
                return self._fdes[i]
            if i > 0 and self._fdes[i - 1][0] == lo:
                i -= 1
                continue
            return None
        return None

    def row(self, pc: int) -> Optional[FrameRow]:
        if pc in self._rows:
            return self._rows[pc]
        got = None
        f = self._find(pc)
        if f is not None:
            try:
                got = self._row_in(f, pc)
            except Exception:
                got = None
        self._rows[pc] = got
        return got

    def _row_in(self, f: tuple[int, int, _Section, int], pc: int) -> Optional[FrameRow]:
        lo, _hi, sec, off = f
        key = (id(sec), off)
        dec = self._decoded.get(key)
        if dec is None:
            entry = sec.entry(off)
            with sec.lock:
                dec = entry.get_decoded()
            ra = entry.cie.header.get("return_address_register", 16) if entry.cie is not None else 16
            dec = self._decoded[key] = (dec.table, [ln["pc"] for ln in dec.table], ra)
        table, pcs, ra = dec
        i = bisect.bisect_right(pcs, pc) - 1
        if i < 0:
            return None
        line = table[i]
        c = line["cfa"]
        if c.expr is not None:
            cfa: tuple = ("expr", bytes(c.expr))
        elif c.reg is not None:
            cfa = ("reg", c.reg, c.offset or 0)
        else:
            return None
        rules: dict[int, tuple] = {}
        for k, r in line.items():
            if not isinstance(k, int):
                continue
            kind = _RULES.get(r.type)
            if kind is None:
                continue
            if kind in ("same", "undefined"):
                rules[k] = (kind,)
            elif kind in ("expr", "val_expr"):
                rules[k] = (kind, bytes(r.arg))
            else:
                rules[k] = (kind, r.arg)
        return FrameRow(cfa, rules, ra)


def _read_enc(data: bytes, pos: int, enc: int, base: int, datarel: int, little: bool) -> tuple[int, int]:
    if enc == 0xFF:
        return 0, pos
    fmt = {0x00: "Q", 0x02: "H", 0x03: "I", 0x04: "Q", 0x0A: "h", 0x0B: "i", 0x0C: "q"}.get(enc & 0x0F)
    if fmt is None:
        raise ValueError("encoding")
    v = struct.unpack_from(("<" if little else ">") + fmt, data, pos)[0]
    app = enc & 0x70
    if app == 0x10:
        v += base + pos
    elif app == 0x30:
        v += datarel
    return v, pos + struct.calcsize(fmt)


def _section(img: Any, name: str) -> Optional[tuple[bytes, int]]:
    sec = img.elf.get_section_by_name(name)
    if sec is None or sec["sh_type"] == "SHT_NOBITS" or sec["sh_size"] == 0:
        return None
    return bytes(sec.data()), sec["sh_addr"]


def frame_table(image: Any) -> FrameTable:
    """The CFI of one ElfImage (cached per image)."""
    got = getattr(image, "_frame_table", None)
    if got is not None:
        return got
    little = image.elf.little_endian
    asz = 8 if image.elf.elfclass == 64 else 4
    sections: list[_Section] = []
    hdr = None
    eh = _section(image, ".eh_frame")
    if eh is not None:
        sections.append(_Section(eh[0], eh[1], True, little, asz))
        hdr = _section(image, ".eh_frame_hdr")
    else:
        for owner in (image, getattr(image, "dwarf_elf", None)):
            if owner is None:
                continue
            df = _section(owner, ".debug_frame")
            if df is not None:
                sections.append(_Section(df[0], 0, False, little, asz))
                break
    table = FrameTable(sections, hdr)
    image._frame_table = table
    return table
