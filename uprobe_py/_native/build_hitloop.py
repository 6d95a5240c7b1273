"""cffi build script for uprobe_py._native._hitloop (the ptrace per-hit path, hitloop.c)."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
ffi.cdef("""
int up_probe(void);
""")
with open(os.path.join(HERE, "hitloop.c")) as f:
    ffi.set_source("uprobe_py._native._hitloop", f.read(), extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffi.compile(verbose=True)
