"""Memory calls: mmap (stap's `syscall.mmap2` on x86_64), munmap, mprotect, brk."""
from __future__ import annotations

from . import fmt as F
from .decode import call, derived, int_arg, ulong_arg

call("mmap2", [("start", ulong_arg(1)), ("length", ulong_arg(2)), ("prot", ulong_arg(3)),
               ("prot_str", derived(F.prot, "prot")), ("flags", ulong_arg(4)),
               ("flags_str", derived(F.mmap_flags, "flags")), ("fd", int_arg(5)), ("pgoffset", ulong_arg(6))],
     "%p, %u, %s, %s, %d, %d", "start", "length", "prot_str", "flags_str", "fd", "pgoffset",
     covers=("mmap",), retfmt=2)
call("munmap", [("start", ulong_arg(1)), ("length", ulong_arg(2))], "%p, %u", "start", "length")
call("mprotect", [("addr", ulong_arg(1)), ("len", ulong_arg(2)), ("prot", ulong_arg(3)),
                  ("prot_str", derived(F.prot, "prot"))], "%p, %u, %s", "addr", "len", "prot_str")
call("brk", [("brk", ulong_arg(1))], "%p", "brk")

from . import flags as X  # noqa: E402

call("madvise", [("start", ulong_arg(1)), ("length", ulong_arg(2)), ("advice", int_arg(3)),
                 ("advice_str", derived(X.madvise_advice, "advice"))], "%p, %u, %s", "start", "length", "advice_str")
call("mremap", [("old_address", ulong_arg(1)), ("old_size", ulong_arg(2)), ("new_size", ulong_arg(3)),
                ("flags", ulong_arg(4)), ("flags_str", derived(X.mremap_flags, "flags")),
                ("new_address", ulong_arg(5))],
     "%p, %d, %d, %s, %p", "old_address", "old_size", "new_size", "flags_str", "new_address", retfmt=2)
