"""The traced process's modules (from /proc/PID/maps) and their symbol tables, as stap's
user-space symbol lookup (runtime/sym.c, vma.c) sees them with `--ldd`: every mapped
ELF file is a module, named by its full path.

- `maps_of(ctx)`: the `ProcessMaps` of the traced process, cached per process image
  (keyed by pid and the engine's memory object, which is new after each exec) and
  re-read only when an address is in no known module (a dlopen since).
- `ProcessMaps.module(addr)`: the `Module` whose mappings cover addr: its path, the
  start and end of its contiguous mappings (stap's vm_start/vm_end), and `bias`
  (run-time address - ELF vaddr).
- `symtab(path)`: stap's symbol table of a module (cached per file): the defined
  STT_FUNC and STT_OBJECT symbols of .symtab (of the file, else of its separate debug
  file, else .dynsym), sorted by address; a symbol's size is the distance to the next
  one (stap's heuristic, not st_size), and an address belongs to the last symbol at or
  below it; of aliases at one address the last in table order is kept (stap's
  choice, checked against the tables `stap -p3 --ldd` generates). `lookup(addr)` answers stap's _stp_kallsyms_lookup: (name, offset, size,
  module) with name None when no symbol is below addr.

Nothing here runs per hit unless a handler asks for a symbol or a module.
"""
from __future__ import annotations

import bisect
import functools
import os
import struct
from typing import Any, Optional

STT_OBJECT, STT_FUNC = 1, 2


class Module:
    __slots__ = ("path", "start", "end", "bias", "_image")

    def __init__(self, path: str, start: int, end: int, bias: int) -> None:
        self.path = path
        self.start = start
        self.end = end
        self.bias = bias
        self._image: Any = None

    @property
    def image(self) -> Any:
        """The module's ElfImage (shared with probe resolution), None if not an ELF file."""
        if self._image is None:
            self._image = elf_image(self.path) or False
        return self._image or None


@functools.lru_cache(maxsize=None)
def elf_image(path: str) -> Any:
    from uprobe_py.probes.process import _module
    got = _module(path) if os.path.isfile(path) else None
    return got[0] if got else None


def _parse_maps(pid: int) -> list[tuple[int, int, int, str]]:
    """(start, end, file offset, path) of the file-backed mappings, in address order."""
    out = []
    try:
        with open("/proc/%d/maps" % pid, "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return out
    for line in data.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue
        lo, hi = parts[0].split("-")
        path = parts[5]
        if path.endswith(" (deleted)"):
            path = path[:-10]
        out.append((int(lo, 16), int(hi, 16), int(parts[2], 16), path))
    return out


class ProcessMaps:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.starts: list[int] = []
        self.modules: list[Module] = []
        self.refresh()

    def refresh(self) -> None:
        mods: list[Module] = []
        for lo, hi, off, path in _parse_maps(self.pid):
            last = mods[-1] if mods else None
            if last is not None and last.path == path and off != 0 and lo >= last.end:
                last.end = hi              # the module's next segment (stap extends the region)
                continue
            load_base = 0
            img = elf_image(path)
            if img is not None:
                load_base = img.load_base
            mods.append(Module(path, lo, hi, lo - off - load_base if off else lo - load_base))
        self.modules = mods
        self.starts = [m.start for m in mods]

    def _find(self, addr: int) -> Optional[Module]:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr < self.modules[i].end:
            return self.modules[i]
        return None

    def module(self, addr: int) -> Optional[Module]:
        addr &= (1 << 64) - 1
        m = self._find(addr)
        if m is None:
            self.refresh()
            m = self._find(addr)
        return m


_cache: dict[int, tuple[Any, ProcessMaps]] = {}


def maps_of(ctx: Any) -> Optional[ProcessMaps]:
    """The module map of the traced process, None outside a process probe."""
    if ctx.regs is None or not ctx.user_mode:
        return None
    got = _cache.get(ctx.pid)
    if got is not None and got[0] is ctx.memory:
        return got[1]
    pm = ProcessMaps(ctx.pid)
    _cache[ctx.pid] = (ctx.memory, pm)
    return pm


class SymTab:
    def __init__(self, addrs: list[int], names: list[str]) -> None:
        self.addrs = addrs
        self.names = names

    def find(self, key: int) -> Optional[tuple[str, int, int]]:
        """(name, offset, size) of the last symbol at or below key."""
        i = bisect.bisect_right(self.addrs, key) - 1
        if i < 0:
            return None
        size = self.addrs[i + 1] - self.addrs[i] if i + 1 < len(self.addrs) else 0
        return self.names[i], key - self.addrs[i], size


def _read_syms(img: Any, sec: Any) -> list[tuple[int, int, str]]:
    """(st_value, rank, name) of the defined FUNC/OBJECT symbols of one symbol table."""
    strtab = img.elf.get_section(sec["sh_link"]).data()
    data = sec.data()
    alloc = [bool(s["sh_flags"] & 2) for s in img.elf.iter_sections()]      # SHF_ALLOC
    out = []
    for name_off, info, _other, shndx, value, _sz in struct.iter_unpack("<IBBHQQ", data[: len(data) // 24 * 24]):
        if info & 0xF not in (STT_FUNC, STT_OBJECT) or shndx == 0 or shndx >= len(alloc) \
                or not alloc[shndx]:          # undefined, SHN_ABS and friends, non-loaded sections
            continue
        end = strtab.find(b"\0", name_off)
        name = strtab[name_off:end].decode("latin-1")
        if not name:
            continue
        out.append((value, 0, name))
    return out


@functools.lru_cache(maxsize=None)
def symtab(path: str) -> SymTab:
    img = elf_image(path)
    rows: list[tuple[int, int, str]] = []
    if img is not None and img.elf.elfclass == 64 and img.elf.little_endian:
        for owner in (img, img.dwarf_elf):
            if owner is None:
                continue
            sec = owner.elf.get_section_by_name(".symtab")
            if sec is not None and sec["sh_type"] == "SHT_SYMTAB":
                rows = _read_syms(owner, sec)
                break
        else:
            sec = img.elf.get_section_by_name(".dynsym")
            if sec is not None:
                rows = _read_syms(img, sec)
    best: dict[int, str] = {}
    for value, _rank, name in rows:
        best[value] = name          # aliases at one address: the last in table order, as stap keeps
    addrs = sorted(best)
    names = [best[a][1:] if best[a].startswith(".") else best[a] for a in addrs]
    return SymTab(addrs, names)


def lookup(ctx: Any, addr: int) -> tuple[Optional[str], int, int, Optional[Module]]:
    """stap's _stp_kallsyms_lookup for a user address: (name, offset, size, module).
    Without a symbol, offset and size are the module's (addr - start, its extent)."""
    addr &= (1 << 64) - 1
    if addr == 0:
        return None, 0, 0, None
    pm = maps_of(ctx)
    m = pm.module(addr) if pm is not None else None
    if m is None:
        return None, 0, 0, None
    found = symtab(m.path).find(addr - m.bias)
    if found is None:
        return None, addr - m.start, m.end - m.start, m
    name, off, size = found
    return name, off, size, m
