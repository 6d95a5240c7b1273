"""Signal-handling calls: rt_sigaction, rt_sigprocmask (stap's sysc_rt_sig*.stp)."""
from __future__ import annotations

from . import flags as X
from .decode import call, derived, int_arg, pointer_arg, uint_arg, ulong_arg, with_mem
from . import fmt as F

call("rt_sigaction", [("sig", int_arg(1)), ("sig_str", derived(F.signal_name, "sig")),
                      ("act_uaddr", pointer_arg(2)), ("act_str", with_mem(X.sigaction_u, "act_uaddr")),
                      ("oact_uaddr", pointer_arg(3)), ("sigsetsize", ulong_arg(4))],
     "%s, {%s}, %p, %d", "sig_str", "act_str", "oact_uaddr", "sigsetsize")
call("rt_sigprocmask", [("how", int_arg(1)), ("how_str", derived(X.sigprocmask_how, "how")),
                        ("set_uaddr", pointer_arg(2)), ("set_str", with_mem(X.sigset_u, "set_uaddr")),
                        ("oldset_uaddr", pointer_arg(3)), ("sigsetsize", uint_arg(4))],
     "%s, %s, %p, %d", "how_str", "set_str", "oldset_uaddr", "sigsetsize")
