"""Socket calls (x86_64 has direct system calls; stap's socketcall paths do not apply)."""
from __future__ import annotations

from . import fmt as F
from .decode import STRING, Var, call, derived, int_arg, pointer_arg, uint_arg, ulong_arg, with_mem

call("socket", [("family", int_arg(1)), ("type", int_arg(2)), ("protocol", int_arg(3)),
                ("family_str", derived(F.sock_family, "family")), ("type_str", derived(F.sock_type, "type")),
                ("protocol_str", derived(F.sock_protocol, "family", "protocol"))],
     "%s, %s, %s", "family_str", "type_str", "protocol_str")


def _sa(addr_var: str, len_var: str) -> Var:
    return with_mem(F.sockaddr, addr_var, len_var)


call("connect", [("sockfd", int_arg(1)), ("serv_addr_uaddr", pointer_arg(2)), ("addrlen", uint_arg(3))],
     lambda v: "%d, %s, %d" % (v.get("sockfd"), F.sockaddr(v.ctx, v.get("serv_addr_uaddr"), v.get("addrlen")),
                               v.get("addrlen")))
call("bind", [("sockfd", int_arg(1)), ("my_addr_uaddr", pointer_arg(2)), ("addrlen", int_arg(3))],
     lambda v: "%d, %s, %d" % (v.get("sockfd"), F.sockaddr(v.ctx, v.get("my_addr_uaddr"), v.get("addrlen")),
                               v.get("addrlen")))
call("accept", [("sockfd", int_arg(1)), ("addr_uaddr", pointer_arg(2)), ("addrlen_uaddr", pointer_arg(3))],
     "%d, %p, %p", "sockfd", "addr_uaddr", "addrlen_uaddr")
call("accept4", [("sockfd", int_arg(1)), ("addr_uaddr", pointer_arg(2)), ("addrlen_uaddr", pointer_arg(3)),
                 ("flags", int_arg(4)), ("flags_str", derived(F.sock_flags, "flags"))],
     "%d, %p, %p, %s", "sockfd", "addr_uaddr", "addrlen_uaddr", "flags_str")
call("listen", [("sockfd", int_arg(1)), ("backlog", int_arg(2))], "%d, %d", "sockfd", "backlog")
call("sendto", [("s", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("len", ulong_arg(3)), ("flags", uint_arg(4)),
                ("to_uaddr", pointer_arg(5)), ("tolen", uint_arg(6)), ("flags_str", derived(F.msg_flags, "flags")),
                ("buf", Var("", STRING, lambda v: F.buffer_quoted(v.ctx, v.get("buf_uaddr"), v.get("len"), 50))),
                ("to_str", _sa("to_uaddr", "tolen"))],
     "%d, %s, %u, %s, %s, %u", "s", "buf", "len", "flags_str", "to_str", "tolen")
call("recvfrom", [("s", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("len", ulong_arg(3)), ("flags", uint_arg(4)),
                  ("addr_uaddr", pointer_arg(5)), ("addrlen_uaddr", pointer_arg(6)),
                  ("flags_str", derived(F.msg_flags, "flags"))],
     "%d, %p, %u, %s, %p, %p", "s", "buf_uaddr", "len", "flags_str", "addr_uaddr", "addrlen_uaddr")
call("shutdown", [("s", int_arg(1)), ("how", int_arg(2)), ("how_str", derived(F.shutdown_how, "how"))],
     "%d, %s", "s", "how_str")

from . import flags as X  # noqa: E402

for _n in ("sendmsg", "recvmsg"):
    call(_n, [("s", int_arg(1)), ("msg_uaddr", pointer_arg(2)), ("flags", uint_arg(3)),
              ("flags_str", derived(F.msg_flags, "flags"))], "%d, %p, %s", "s", "msg_uaddr", "flags_str")
call("setsockopt", [("fd", int_arg(1)), ("level", int_arg(2)), ("optname", int_arg(3)),
                    ("optval_uaddr", pointer_arg(4)), ("optlen", uint_arg(5)),
                    ("level_str", derived(X.sockopt_level, "level")),
                    ("optname_str", derived(X.sockopt_optname, "optname"))],
     "%d, %s, %s, %p, %u", "fd", "level_str", "optname_str", "optval_uaddr", "optlen")
call("getsockopt", [("fd", int_arg(1)), ("level", int_arg(2)), ("optname", int_arg(3)),
                    ("optval_uaddr", pointer_arg(4)), ("optlen_uaddr", pointer_arg(5))],
     lambda v: "%d, %s, %s, 0x%x, 0x%x" % (v.get("fd"), X.sockopt_level(v.get("level")),
                                          X.sockopt_optname(v.get("optname")), v.get("optval_uaddr") & F.M64,
                                          v.get("optlen_uaddr") & F.M64))
call("socketpair", [("family", int_arg(1)), ("type", int_arg(2)), ("protocol", int_arg(3)),
                    ("sv_uaddr", pointer_arg(4)), ("family_str", derived(F.sock_family, "family")),
                    ("type_str", derived(F.sock_type, "type")),
                    ("protocol_str", derived(F.sock_protocol, "family", "protocol"))],
     "%s, %s, %s, %p", "family_str", "type_str", "protocol_str", "sv_uaddr")
for _n in ("getpeername", "getsockname"):
    call(_n, [("s", int_arg(1)), ("name_uaddr", pointer_arg(2)), ("namelen_uaddr", pointer_arg(3))],
         "%d, %p, %p", "s", "name_uaddr", "namelen_uaddr")
