"""How stap's syscall tapset renders values: flag sets, enums, quoted user strings,
sockaddrs, timespecs, argv vectors and return values.

Each renderer takes plain integers (and, for user memory, a context-like object with
`.memory.read(addr, n)` and `.session.maxstringlen`, the shape builtins/fn_umem.py reads).
The value tables are facts about stap 4.8 on x86_64 (names and order of its lookup lists).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..builtins import fn_umem
from ..builtins.fn_conversion import return_str as _return_str

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1


def s32(v: int) -> int:
    v &= M32
    return v - (1 << 32) if v >> 31 else v


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def u32(v: int) -> int:
    return v & M32


# --- lookups: exact match, or-ed flags ---------------------------------------------------

def lookup(table: Sequence[tuple[int, str]], val: int) -> str:
    """One name for an exact value, else the value in hex."""
    for v, name in table:
        if v == val:
            return name
    return "0x%x" % (val & M64) if val >= 0 else "0x%x" % (val & M64)


def lookup_or(table: Sequence[tuple[int, str]], val: int) -> str:
    """Names of the set flags in table order joined by "|", leftover bits in hex;
    zero is looked up exactly (so it prints the table's name for 0, or 0x0)."""
    if val == 0:
        return lookup(table, 0)
    parts = []
    for v, name in table:
        if v & val:
            parts.append(name)
            val &= ~v
    if val:
        parts.append("0x%x" % (val & M64))
    return "|".join(parts)


OPEN_FLAGS = ((0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"),
              (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o4010000, "O_SYNC"), (0o10000, "O_DSYNC"),
              (0o20000, "O_ASYNC"), (0o40000, "O_DIRECT"), (0o100000, "O_LARGEFILE"),
              (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"),
              (0o2000000, "O_CLOEXEC"), (0o10000000, "O_PATH"))
O_CREAT = 0o100


def open_flags(f: int) -> str:
    f = s32(f)
    acc = f & 3
    head = "O_WRONLY" if acc == 1 else "O_RDWR" if acc == 2 else "O_RDONLY"
    rest = f & ~3
    return head + "|" + lookup_or(OPEN_FLAGS, rest) if rest else head


def dup3_flags(f: int) -> str:
    return lookup_or(OPEN_FLAGS, u32(f))


AT_FDCWD = -100


def dfd(d: int) -> str:
    return "AT_FDCWD" if d == AT_FDCWD else "%d" % d


AT_FLAGS = ((0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_REMOVEDIR"), (0x400, "AT_SYMLINK_FOLLOW"),
            (0x800, "AT_NO_AUTOMOUNT"), (0x1000, "AT_EMPTY_PATH"))


def at_flags(f: int) -> str:
    return lookup_or(AT_FLAGS, f)


ACCESS_MODES = ((0, "F_OK"), (4, "R_OK"), (2, "W_OK"), (1, "X_OK"))


def access_mode(m: int) -> str:
    return lookup_or(ACCESS_MODES, u32(m))


PROT = ((0, "PROT_NONE"), (1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"), (8, "PROT_SEM"),
        (0x01000000, "PROT_GROWSDOWN"), (0x02000000, "PROT_GROWSUP"))


def prot(p: int) -> str:
    return lookup_or(PROT, p)


MAP_FLAGS = ((0x01, "MAP_SHARED"), (0x02, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
             (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"),
             (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"),
             (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"), (0x40000, "MAP_HUGETLB"),
             (0x4000000, "MAP_UNINITIALIZED"), (0x40, "MAP_32BIT"))
_HUGE_SHIFT, _HUGE_MASK = 26, 0x3F


def mmap_flags(f: int) -> str:
    huge = (f >> _HUGE_SHIFT) & _HUGE_MASK
    f &= ~(_HUGE_MASK << _HUGE_SHIFT)
    head = ""
    if huge:
        suffix = ""
        for lim, suf in ((60, "EB"), (50, "PB"), (40, "TB"), (30, "GB"), (20, "MB"), (10, "KB")):
            if huge >= lim:
                huge -= lim
                suffix = suf
                break
        head = "MAP_HUGE_%d%s|" % (1 << huge, suffix)
    return head + lookup_or(MAP_FLAGS, f)


SIGNALS = ((0, "SIG_0"), (1, "SIGHUP"), (2, "SIGINT"), (3, "SIGQUIT"), (4, "SIGILL"), (5, "SIGTRAP"),
           (6, "SIGABRT"), (7, "SIGBUS"), (8, "SIGFPE"), (9, "SIGKILL"), (10, "SIGUSR1"), (11, "SIGSEGV"),
           (12, "SIGUSR2"), (13, "SIGPIPE"), (14, "SIGALRM"), (15, "SIGTERM"), (17, "SIGCHLD"),
           (18, "SIGCONT"), (19, "SIGSTOP"), (20, "SIGTSTP"), (21, "SIGTTIN"), (22, "SIGTTOU"),
           (23, "SIGURG"), (24, "SIGXCPU"), (25, "SIGXFSZ"), (26, "SIGVTALRM"), (27, "SIGPROF"),
           (28, "SIGWINCH"), (29, "SIGIO/SIGPOLL"), (30, "SIGPWR"), (31, "SIGSYS"), (5 | 0x80, "TRACESYSGOOD"))


def signal_name(sig: int) -> str:
    return lookup(SIGNALS, u32(sig))


SEEK = ((0, "SEEK_SET"), (1, "SEEK_CUR"), (2, "SEEK_END"), (3, "SEEK_DATA"), (4, "SEEK_HOLE"))


def seek_whence(w: int) -> str:
    return lookup(SEEK, u32(w))


WAIT_OPTS = ((1, "WNOHANG"), (2, "WUNTRACED"), (4, "WEXITED"), (2, "WSTOPPED"), (8, "WCONTINUED"),
             (0x01000000, "WNOWAIT"), (0x20000000, "__WNOTHREAD"), (0x40000000, "__WALL"),
             (0x80000000, "__WCLONE"))


def wait4_opts(f: int) -> str:
    return lookup_or(WAIT_OPTS, u32(f))


SOCK_FAMILIES = tuple(enumerate((
    "PF_UNSPEC", "PF_LOCAL", "PF_INET", "PF_AX25", "PF_IPX", "PF_APPLETALK", "PF_NETROM", "PF_BRIDGE",
    "PF_ATMPVC", "PF_X25", "PF_INET6", "PF_ROSE", "PF_NETBEUI", "PF_SECURITY", "PF_KEY", "PF_NETLINK",
    "PF_PACKET", "PF_ASH", "PF_ECONET", "PF_ATMSVC", "PF_RDS", "PF_SNA", "PF_IRDA", "PF_PPPOX",
    "PF_WANPIPE", "PF_LLC", "PF_IB", "-", "-", "PF_CAN", "PF_TIPC", "PF_BLUETOOTH", "PF_IUCV",
    "PF_RXRPC", "PF_ISDN", "PF_PHONET", "PF_IEEE802154", "PF_CAIF", "PF_ALG", "PF_NFC", "PF_VSOCK")))
SOCK_FAMILIES = tuple((v, n) for v, n in SOCK_FAMILIES if n != "-")
# PF_NETDECnet/PF_ROUTE: PF_ROUTE == PF_NETLINK (16 is PF_NETLINK's value); PF_MPLS etc. not in stap's list


def sock_family(f: int) -> str:
    return lookup(SOCK_FAMILIES, u32(f))


SOCK_TYPES = {1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM", 5: "SOCK_SEQPACKET",
              6: "SOCK_DCCP", 10: "SOCK_PACKET"}
SOCK_CLOEXEC, SOCK_NONBLOCK = 0o2000000, 0o4000


def sock_type(t: int) -> str:
    t = s32(t)
    flags = t & ~0xF
    t &= 0xF
    parts = []
    if t in SOCK_TYPES:
        parts.append(SOCK_TYPES[t])
        t = 0
    if flags & SOCK_CLOEXEC:
        parts.append("SOCK_CLOEXEC")
        flags &= ~SOCK_CLOEXEC
    if flags & SOCK_NONBLOCK:
        parts.append("SOCK_NONBLOCK")
        flags &= ~SOCK_NONBLOCK
    t |= flags
    if t != 0 or not parts:
        parts.append("0x%x" % (t & M32))
    return "|".join(parts)


SOCK_FLAGS = ((SOCK_CLOEXEC, "SOCK_CLOEXEC"), (SOCK_NONBLOCK, "SOCK_NONBLOCK"))


def sock_flags(f: int) -> str:
    return lookup_or(SOCK_FLAGS, u32(f))


IPPROTO = {0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 4: "IPPROTO_IPIP", 6: "IPPROTO_TCP",
           8: "IPPROTO_EGP", 12: "IPPROTO_PUP", 17: "IPPROTO_UDP", 22: "IPPROTO_IDP", 29: "IPPROTO_TP",
           33: "IPPROTO_DCCP", 41: "IPPROTO_IPV6", 46: "IPPROTO_RSVP", 47: "IPPROTO_GRE",
           50: "IPPROTO_ESP", 51: "IPPROTO_AH", 92: "IPPROTO_MTP", 98: "IPPROTO_ENCAP",
           103: "IPPROTO_PIM", 108: "IPPROTO_COMP", 132: "IPPROTO_SCTP", 136: "IPPROTO_UDPLITE",
           255: "IPPROTO_RAW"}


def sock_protocol(family: int, proto: int) -> str:
    if family in (2, 10) and proto in IPPROTO:
        return IPPROTO[proto]
    return "%d" % proto


MSG_FLAGS = ((0x1, "MSG_OOB"), (0x2, "MSG_PEEK"), (0x4, "MSG_DONTROUTE"), (0x4, "MSG_TRYHARD"),
             (0x8, "MSG_CTRUNC"), (0x10, "MSG_PROBE"), (0x20, "MSG_TRUNC"), (0x40, "MSG_DONTWAIT"),
             (0x80, "MSG_EOR"), (0x100, "MSG_WAITALL"), (0x200, "MSG_FIN"), (0x400, "MSG_SYN"),
             (0x800, "MSG_CONFIRM"), (0x1000, "MSG_RST"), (0x2000, "MSG_ERRQUEUE"),
             (0x4000, "MSG_NOSIGNAL"), (0x8000, "MSG_MORE"), (0x10000, "MSG_WAITFORONE"),
             (0x20000, "MSG_SENDPAGE_NOTLAST"), (0x80, "MSG_EOF"), (0x20000000, "MSG_FASTOPEN"),
             (0x40000000, "MSG_CMSG_CLOEXEC"))


def msg_flags(f: int) -> str:
    return lookup_or(MSG_FLAGS, f)


SHUTDOWN = ((0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR"))


def shutdown_how(h: int) -> str:
    return lookup(SHUTDOWN, u32(h))


# --- user memory ------------------------------------------------------------------------------

def quoted(ctx: Any, addr: int) -> str:
    """user_string_quoted: "NULL" for a null pointer (stap's wording), the quoted string,
    or the address in hex when it cannot be read."""
    if addr & M64 == 0:
        return "NULL"
    return fn_umem.user_string_quoted(ctx, addr)


def nofault(ctx: Any, addr: int) -> str:
    return fn_umem.user_string_nofault(ctx, addr)


def buffer_quoted(ctx: Any, addr: int, n: int, outlen: int) -> str:
    return fn_umem.user_buffer_quoted(ctx, addr, n, outlen)


def _read(ctx: Any, addr: int, n: int) -> bytes:
    return fn_umem.read_user(ctx, addr, n)


def timespec(ctx: Any, addr: int, n: int = 1) -> str:
    if addr & M64 == 0 or n < 1 or n > 2:
        return "NULL"
    data = _read(ctx, addr, 16 * n)
    if len(data) < 16 * n:
        return "0x%x" % (addr & M64)
    out = []
    for i in range(n):
        sec = int.from_bytes(data[16 * i:16 * i + 8], "little", signed=True)
        nsec = int.from_bytes(data[16 * i + 8:16 * i + 16], "little", signed=True)
        if nsec == (1 << 30) - 1:
            out.append("[UTIME_NOW]")
        elif nsec == (1 << 30) - 2:
            out.append("[UTIME_OMIT]")
        else:
            out.append("[%d.%09d]" % (sec, nsec))
    return "".join(out)


def sockaddr(ctx: Any, addr: int, length: int) -> str:
    """_struct_sockaddr_u in its pretty form, for the families programs use."""
    if addr & M64 == 0:
        return "NULL"
    length = s32(length)
    if length <= 0 or length > 128:
        return "{...}"
    data = _read(ctx, addr, length)
    if len(data) < length:
        return "{...}"
    fam = int.from_bytes(data[:2], "little") if length >= 2 else -1
    if fam == 2 and length == 16:
        port = int.from_bytes(data[2:4], "big")
        return "{AF_INET, %d.%d.%d.%d, %d}" % (data[4], data[5], data[6], data[7], port)
    if fam == 1 and length >= 4:
        path = data[2:]
        if path[:1] == b"\0":
            body = path[1:].split(b"\0")[0].decode("latin-1")
            return '{AF_UNIX, "\\000%s"}' % body[:ctx.session.maxstringlen - 18]
        return '{AF_UNIX, "%s"}' % path.split(b"\0")[0].decode("latin-1")
    if fam == 10 and length == 28:
        port = int.from_bytes(data[2:4], "big")
        words = [int.from_bytes(data[8 + 2 * i:10 + 2 * i], "big") for i in range(8)]
        return "{AF_INET6, %s, %d}" % (":".join("%x" % w for w in words), port)
    if fam == 16 and length == 12:
        pid = int.from_bytes(data[4:8], "little", signed=True)
        groups = int.from_bytes(data[8:12], "little")
        return "{AF_NETLINK, pid=%d, groups=%08x}" % (pid, groups)
    if length >= 2:
        return "{unknown sockaddr with sa=%d, salen=%d}" % (fam, length)
    return "{...}"


def argv(ctx: Any, vec: int) -> str:
    """A NULL-terminated vector of user strings as ["a", "b"]; stops when the text stops growing."""
    out = "["
    first = True
    vec &= M64
    while vec:
        data = _read(ctx, vec, 8)
        if len(data) < 8:
            out += ("" if first else ", ") + "0x%x" % vec
            break
        p = int.from_bytes(data, "little")
        if p == 0:
            break
        before = len(out)
        out += ("" if first else ", ") + fn_umem.user_string_quoted(ctx, p)
        first = False
        if len(out) >= ctx.session.maxstringlen - 1 or len(out) == before:
            out = out[:ctx.session.maxstringlen - 1]
            break
        vec += 8
    return out + "]"


def retstr(fmt: int, ret: int) -> str:
    return _return_str(fmt, ret)
