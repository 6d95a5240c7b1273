"""cffi build script for uprobe_py._native._dwarfscan (the DWARF index scanner, dwarfscan.c)."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
ffi.cdef("""
typedef struct ds_ctx ds_ctx;
ds_ctx *ds_new(int elf_addr_size, int ranges_mode);
void ds_set_section(ds_ctx *c, int idx, const uint8_t *p, uint64_t n);
void ds_free(ds_ctx *c);
int64_t ds_units(ds_ctx *c);
int ds_scan_cu(ds_ctx *c, uint64_t cu_off);
int ds_line(ds_ctx *c, uint64_t off, int cu_addr_size, int want);
int ds_top(ds_ctx *c, uint64_t cu_off);
int ds_die_ranges(ds_ctx *c, uint64_t off);
uint64_t *ds_out(ds_ctx *c, uint64_t *n);
""")
with open(os.path.join(HERE, "dwarfscan.c")) as f:
    ffi.set_source("uprobe_py._native._dwarfscan", f.read(), extra_compile_args=["-O2", "-Wall"])

if __name__ == "__main__":
    ffi.compile(verbose=True)
