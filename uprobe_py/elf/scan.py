"""The fast reader behind DwarfIndex: uprobe_py/_native/dwarfscan.c through cffi.

`Scanner.open(image)` gives a reader over one ELF's DWARF sections (decompressed:
SHF_COMPRESSED through pyelftools, `.zdebug_*` here), or None when it cannot help
(the extension is not built, a big-endian file, no .debug_info, unreadable unit
headers): DwarfIndex then reads everything with pyelftools, as before.

  - `units`: (offset, end, die_offset, version, unit_type, address_size, offset_size)
    per unit of .debug_info, in section order (pyelftools' iter_CUs order);
  - `scan_cu(off)`: the raw index record of one CU (see dwarfscan.c, ds_scan_cu), or
    None if this reader declines (malformed data, a form or reference it leaves to
    pyelftools): the caller then scans that CU with pyelftools;
  - `top(off)`: the CU's name, language, producer, comp_dir, stmt_list, base address;
  - `line(off, address_size, rows)`: a line program's file table (and sorted rows).
Strings come back as references `section << 56 | offset`; `string(ref)` decodes one.
"""
from __future__ import annotations

import zlib
from typing import Any, Optional

NONE = (1 << 64) - 1
MASK56 = (1 << 56) - 1
SECTIONS = (".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets",
            ".debug_addr", ".debug_rnglists", ".debug_ranges", ".debug_line")
S_INFO, S_ABBREV, S_STR, S_LINE_STR, S_STR_OFF, S_ADDR, S_RNGLISTS, S_RANGES, S_LINE = range(9)

try:
    from .._native._dwarfscan import ffi as _ffi, lib as _lib      # type: ignore[import-not-found]
except ImportError:                                                  # not built: pyelftools only
    _ffi = _lib = None


def available() -> bool:
    return _lib is not None


def section_bytes(elf: Any, name: str) -> Optional[bytes]:
    """A DWARF section's contents, decompressed (SHF_COMPRESSED or GNU .zdebug_*), or None."""
    sec = elf.get_section_by_name(name)
    if sec is not None and sec["sh_type"] != "SHT_NOBITS":
        data = sec.data()
        return bytes(data) if not isinstance(data, bytes) else data
    zsec = elf.get_section_by_name(".z" + name[1:])
    if zsec is None or zsec["sh_type"] == "SHT_NOBITS":
        return None
    raw = zsec.data()
    if raw[:4] != b"ZLIB" or len(raw) < 12:
        return bytes(raw)
    return zlib.decompress(raw[12:])


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class Scanner:
    def __init__(self, elf: Any, sections: dict[int, bytes]) -> None:
        assert _lib is not None and _ffi is not None
        self._secs = sections                     # keeps the buffers alive for C
        self._bufs = {}
        rng = (1 if S_RANGES in sections else 0) | (2 if S_RNGLISTS in sections else 0)
        self._ctx = _ffi.gc(_lib.ds_new(elf.elfclass // 8, rng), _lib.ds_free)
        for idx, data in sections.items():
            buf = self._bufs[idx] = _ffi.from_buffer(data)
            _lib.ds_set_section(self._ctx, idx, buf, len(data))
        self._n = _ffi.new("uint64_t *")
        self._strs: dict[int, str] = {}
        n = _lib.ds_units(self._ctx)
        if n < 0:
            raise ValueError("unreadable .debug_info unit headers")
        raw = self._out()
        self.units = [tuple(raw[i:i + 7]) for i in range(0, 8 * n, 8)]
        self.unit_at = {u[0]: u for u in self.units}

    @classmethod
    def open(cls, elf: Any) -> Optional["Scanner"]:
        if _lib is None or not elf.little_endian:
            return None
        secs: dict[int, bytes] = {}
        for idx, name in enumerate(SECTIONS):
            data = section_bytes(elf, name)
            if data is not None and len(data) > 0:
                secs[idx] = data
            elif data is not None and name in (".debug_ranges", ".debug_rnglists"):
                secs[idx] = data          # present but empty: pyelftools still takes it as there
        if S_INFO not in secs or S_ABBREV not in secs:
            return None
        try:
            return cls(elf, secs)
        except ValueError:
            return None

    def section(self, idx: int) -> Optional[bytes]:
        return self._secs.get(idx)

    def _out(self) -> list[int]:
        p = _lib.ds_out(self._ctx, self._n)
        n = self._n[0]
        if n == 0:
            return []
        return memoryview(_ffi.buffer(p, 8 * n)).cast("Q").tolist()

    def string(self, ref: int) -> Optional[str]:
        if ref == NONE:
            return None
        s = self._strs.get(ref)
        if s is None:
            data = self._secs[ref >> 56]
            off = ref & MASK56
            s = self._strs[ref] = data[off:data.index(b"\0", off)].decode("utf-8", "replace")
        return s

    def scan_cu(self, off: int) -> Optional[list[int]]:
        if _lib.ds_scan_cu(self._ctx, off) != 0:
            return None
        return self._out()

    def top(self, off: int) -> Optional[list[int]]:
        if _lib.ds_top(self._ctx, off) != 0:
            return None
        return self._out()

    def die_ranges(self, off: int) -> Optional[list[tuple[int, int]]]:
        """dies.die_ranges for the DIE at `off` (None: ask pyelftools)."""
        if _lib.ds_die_ranges(self._ctx, off) != 0:
            return None
        raw = self._out()
        return [(raw[i], raw[i + 1]) for i in range(2, 2 + 2 * raw[1], 2)]

    def line(self, off: int, address_size: int, rows: bool) -> Optional[list[int]]:
        if _lib.ds_line(self._ctx, off, address_size, 7 if rows else 1) != 0:
            return None
        return self._out()

    def file_table(self, raw: list[int], comp_dir: Optional[str]) -> tuple[list[Optional[str]], int]:
        """lines.file_names from ds_line's output; also the position after the table."""
        version = raw[1]
        i = 2
        nd = raw[i]
        incs = [self.string(r) for r in raw[i + 1:i + 1 + nd]]
        i += 1 + nd
        dirs: list[Optional[str]] = incs if version >= 5 else [comp_dir] + incs  # type: ignore[operator]
        out: list[Optional[str]] = [] if version >= 5 else [None]
        nf = raw[i]
        i += 1
        ndirs = len(dirs)
        for k in range(nf):
            name = self.string(raw[i]) or ""
            di = raw[i + 1]
            i += 2
            d = dirs[di] if di < ndirs else None
            out.append(name if name.startswith("/") or d is None else d + "/" + name)
        return out, i
