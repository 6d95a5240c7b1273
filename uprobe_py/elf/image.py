"""One ELF binary as process probes see it: type, load base, build-id, symbols, debug file.

`ElfImage(path)` opens the file with pyelftools and answers, lazily:
  - `relocatable`: ET_DYN (PIE executables and shared libraries, loaded at a random
    base) or ET_EXEC (fixed addresses); `load_base`: the first PT_LOAD's page-aligned
    vaddr, so `vaddr - load_base` is the offset stap prints (`pc=.dynamic+0x...` for
    ET_DYN, `pc=.absolute+0x...` for ET_EXEC) and, at run time, `map_start + that`;
  - `build_id` (hex), `interp` (PT_INTERP), `debuglink` (.gnu_debuglink);
  - `symbols`: function symbols of .symtab, else .dynsym (elfutils' choice), read with
    struct rather than pyelftools' per-symbol parser, so libpython's 20k symbols cost ms;
  - `dwarf_elf`: the ELF holding .debug_info: this one, or a separate debug file found
    as elfutils finds it (/usr/lib/debug/.build-id/xx/yyyy.debug, then the debuglink
    name beside the binary, in its .debug/ and under /usr/lib/debug).
C++ names are demangled with the `cxxfilt` library (abi::__cxa_demangle, as stap's own
die_name_string uses), falling back to binutils' c++filt when it is missing.
"""
from __future__ import annotations

import bisect
import functools
import os
import struct
import subprocess
import zlib
from dataclasses import dataclass
from typing import Optional

from elftools.elf.elffile import ELFFile

DEBUG_ROOT = "/usr/lib/debug"

STT_FUNC = 2
STT_GNU_IFUNC = 10
SHN_UNDEF = 0


@dataclass(frozen=True)
class Symbol:
    name: str
    addr: int          # st_value: an ELF vaddr
    size: int
    type: int          # STT_*
    bind: int          # STB_*
    defined: bool      # st_shndx != SHN_UNDEF

    @property
    def demangled(self) -> str:
        return demangle(self.name)


@functools.lru_cache(maxsize=65536)
def demangle(name: str) -> str:
    """A C++ symbol's demangled name (the name itself when it is not a mangled one)."""
    if not name.startswith("_Z"):
        return name
    base, at, version = name.partition("@")      # foo@GLIBCXX_3.4 in .symtab
    try:
        import cxxfilt
        try:
            return cxxfilt.demangle(base) + at + version
        except cxxfilt.InvalidName:
            return name
    except ImportError:                          # the library is a declared dependency
        try:
            out = subprocess.run(["c++filt", base], capture_output=True, text=True, timeout=5)
            return out.stdout.strip() + at + version if out.returncode == 0 else name
        except (OSError, subprocess.SubprocessError):
            return name


class NotElf(Exception):
    pass


class ElfImage:
    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._file = open(path, "rb")
            self.elf = ELFFile(self._file)
        except OSError as e:
            raise NotElf(str(e)) from None
        except Exception as e:              # ELFError and friends
            raise NotElf(str(e)) from None
        self.e_type = self.elf["e_type"]
        self.relocatable = self.e_type == "ET_DYN"
        loads = [s for s in self.elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        if loads:
            align = max(loads[0]["p_align"], 1)
            self.load_base = loads[0]["p_vaddr"] & ~(align - 1)
        else:
            self.load_base = 0
        self._symbols: Optional[list[Symbol]] = None
        self._dwarf_elf: Optional[ElfImage] | bool = None

    def close(self) -> None:
        self._file.close()

    # --- identity ---------------------------------------------------------------
    @functools.cached_property
    def build_id(self) -> Optional[str]:
        sec = self.elf.get_section_by_name(".note.gnu.build-id")
        sections = [sec] if sec is not None else [s for s in self.elf.iter_sections()
                                                   if s["sh_type"] == "SHT_NOTE"]
        for s in sections:
            for note in s.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return note["n_desc"]
        return None

    @functools.cached_property
    def interp(self) -> Optional[str]:
        for seg in self.elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                try:
                    return seg.get_interp_name()
                except (UnicodeDecodeError, ValueError):    # a debug file's NOBITS copy
                    return None
        return None

    @functools.cached_property
    def debuglink(self) -> Optional[tuple[str, int]]:
        sec = self.elf.get_section_by_name(".gnu_debuglink")
        if sec is None:
            return None
        data = sec.data()
        end = data.find(b"\0")
        name = data[:end].decode("latin-1")
        off = (end + 4) & ~3
        crc = struct.unpack_from("<I", data, off)[0] if off + 4 <= len(data) else 0
        return name, crc

    def cache_key(self) -> str:
        """What the on-disk index is keyed by: the build-id, else path, size and mtime."""
        if self.build_id:
            return self.build_id
        st = os.stat(self.path)
        return "nobid-%08x" % (zlib.crc32(f"{self.path}:{st.st_size}:{st.st_mtime_ns}".encode()))

    def offset_of(self, vaddr: int) -> int:
        """stap's printed address: relative to the module start (its page-aligned first load)."""
        return vaddr - self.load_base

    @property
    def section_label(self) -> str:
        return ".dynamic" if self.relocatable else ".absolute"

    # --- DWARF ------------------------------------------------------------------
    def has_dwarf(self) -> bool:
        sec = self.elf.get_section_by_name(".debug_info")
        return sec is not None and sec["sh_type"] != "SHT_NOBITS" and sec["sh_size"] > 0

    @property
    def dwarf_elf(self) -> Optional["ElfImage"]:
        """The image whose DWARF describes this one (itself, a separate debug file, or None)."""
        if self._dwarf_elf is None:
            self._dwarf_elf = self if self.has_dwarf() else (self._find_debug_file() or False)
        return self._dwarf_elf or None

    def _debug_candidates(self) -> list[str]:
        out = []
        if self.build_id and len(self.build_id) > 2:
            out.append(os.path.join(DEBUG_ROOT, ".build-id", self.build_id[:2], self.build_id[2:] + ".debug"))
        if self.debuglink:
            name = self.debuglink[0]
            d = os.path.dirname(self.path)
            out += [os.path.join(d, name), os.path.join(d, ".debug", name),
                    os.path.join(DEBUG_ROOT + d, name)]
        return out

    def _find_debug_file(self) -> Optional["ElfImage"]:
        for cand in self._debug_candidates():
            if not os.path.isfile(cand) or os.path.realpath(cand) == self.path:
                continue
            try:
                img = ElfImage(cand)
            except NotElf:
                continue
            if not img.has_dwarf():
                continue
            if self.build_id and img.build_id and img.build_id != self.build_id:
                continue
            if not self.build_id and self.debuglink and self.debuglink[1]:
                with open(cand, "rb") as f:
                    if zlib.crc32(f.read()) != self.debuglink[1]:
                        continue
            return img
        return None

    # --- symbols -----------------------------------------------------------------
    @property
    def symbols(self) -> list[Symbol]:
        """Function symbols (STT_FUNC), defined or not, of the symbol table elfutils would use."""
        if self._symbols is None:
            self._symbols = self._read_symbols()
        return self._symbols

    def _read_symbols(self) -> list[Symbol]:
        for owner in (self, self.dwarf_elf):
            if owner is None:
                continue
            sec = owner.elf.get_section_by_name(".symtab")
            if sec is not None and sec["sh_type"] == "SHT_SYMTAB":
                return owner._parse_symtab(sec)
        sec = self.elf.get_section_by_name(".dynsym")
        return self._parse_symtab(sec) if sec is not None else []

    def _parse_symtab(self, sec: object) -> list[Symbol]:
        strtab = self.elf.get_section(sec["sh_link"]).data()  # type: ignore[index]
        data = sec.data()  # type: ignore[attr-defined]
        out: list[Symbol] = []
        if self.elf.elfclass == 64 and self.elf.little_endian:
            fmt, size = "<IBBHQQ", 24
            rows = struct.iter_unpack(fmt, data[: len(data) // size * size])
            for name_off, info, _other, shndx, value, sz in rows:
                if info & 0xF != STT_FUNC:
                    continue
                end = strtab.find(b"\0", name_off)
                name = strtab[name_off:end].decode("latin-1")
                if name:
                    out.append(Symbol(name, value, sz, STT_FUNC, info >> 4, shndx != SHN_UNDEF))
            return out
        for sym in sec.iter_symbols():  # type: ignore[attr-defined]
            if sym["st_info"]["type"] == "STT_FUNC" and sym.name:
                out.append(Symbol(sym.name, sym["st_value"], sym["st_size"], STT_FUNC,
                                  {"STB_LOCAL": 0, "STB_GLOBAL": 1, "STB_WEAK": 2}.get(sym["st_info"]["bind"], 1),
                                  sym["st_shndx"] != "SHN_UNDEF"))
        return out

    @functools.cached_property
    def symbols_by_addr(self) -> dict[int, list[Symbol]]:
        out: dict[int, list[Symbol]] = {}
        for s in self.symbols:
            if s.defined:
                out.setdefault(s.addr, []).append(s)
        return out

    @functools.cached_property
    def symbols_by_name(self) -> dict[str, list[Symbol]]:
        out: dict[str, list[Symbol]] = {}
        for s in self.symbols:
            out.setdefault(s.name, []).append(s)
        return out

    @functools.cached_property
    def symbols_by_base(self) -> dict[str, list[Symbol]]:
        """Symbols by their name before any `.clone` suffix (foo.cold, foo.part.0 -> foo)."""
        out: dict[str, list[Symbol]] = {}
        for s in self.symbols:
            out.setdefault(s.name.split(".", 1)[0] if not s.name.startswith(".") else s.name, []).append(s)
        return out

    @functools.cached_property
    def _sorted_defined(self) -> tuple[list[int], list[Symbol]]:
        syms = sorted((s for s in self.symbols if s.defined), key=lambda s: s.addr)
        return [s.addr for s in syms], syms

    def symbol_at(self, addr: int) -> Optional[Symbol]:
        """The defined function symbol starting at, else containing, `addr` (dwfl_module_addrinfo)."""
        exact = self.symbols_by_addr.get(addr)
        if exact:
            return exact[0]
        addrs, syms = self._sorted_defined
        i = bisect.bisect_right(addrs, addr) - 1
        while i >= 0 and addrs[i] <= addr:
            s = syms[i]
            if addr < s.addr + max(s.size, 1):
                return s
            if addr - s.addr > 1 << 20:
                break
            i -= 1
        return None


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def script_interpreter(path: str) -> Optional[str]:
    """The interpreter named by a `#!` line, as stap probes it for a script."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].strip()
    return line.split()[0].decode("latin-1") if line else None
