"""Value tables and renderers for the calls decoded beyond the first set (clone, futex,
signals, epoll, sockopts, rlimits, ...): names, values and table order as stap 4.8's
lookup lists define them on x86_64, and its struct renderers for user memory.
"""
from __future__ import annotations

from typing import Any, Sequence

from . import fmt as F
from .fmt import M64, lookup, lookup_or, s32, u32

O_NONBLOCK, O_CLOEXEC, O_DIRECT = 0o4000, 0o2000000, 0o40000


def lookup10(table: Sequence[tuple[int, str]], val: int) -> str:
    """An exact name, else the value in decimal (stap's base-10 lookup)."""
    for v, name in table:
        if v == val:
            return name
    return "%d" % val


# --- clone -------------------------------------------------------------------------------------

CLONE = ((0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"), (0x800, "CLONE_SIGHAND"),
         (0x2000, "CLONE_PTRACE"), (0x4000, "CLONE_VFORK"), (0x8000, "CLONE_PARENT"),
         (0x10000, "CLONE_THREAD"), (0x20000, "CLONE_NEWNS"), (0x40000, "CLONE_SYSVSEM"),
         (0x80000, "CLONE_SETTLS"), (0x100000, "CLONE_PARENT_SETTID"), (0x200000, "CLONE_CHILD_CLEARTID"),
         (0x400000, "CLONE_DETACHED"), (0x800000, "CLONE_UNTRACED"), (0x1000000, "CLONE_CHILD_SETTID"),
         (0x4000000, "CLONE_NEWUTS"), (0x8000000, "CLONE_NEWIPC"), (0x10000000, "CLONE_NEWUSER"),
         (0x20000000, "CLONE_NEWPID"), (0x40000000, "CLONE_NEWNET"), (0x80000000, "CLONE_IO"))


def fork_flags(flags: int) -> str:
    """CLONE_* names of the flags, then the exit signal (low byte) as a signal name."""
    out = lookup_or(CLONE, flags & ~0xFF)
    if flags & 0xFF:
        out = (out + "|" if out else "") + lookup(F.SIGNALS, flags & 0xFF)
    return out


# --- signals -----------------------------------------------------------------------------------

def sigset_str(mask: int) -> str:
    names = [n for v, n in F.SIGNALS if 0 < v <= 64 and mask >> (v - 1) & 1]
    return "[" + "|".join(names) + "]" if names else "[EMPTY]"


def sigset_u(ctx: Any, addr: int) -> str:
    if addr & M64 == 0:
        return "NULL"
    data = F._read(ctx, addr, 8)
    if len(data) < 8:
        return "0x%x" % (addr & M64)
    return sigset_str(int.from_bytes(data, "little"))


SIGPROCMASK_HOW = ((0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK"))


def sigprocmask_how(how: int) -> str:
    return lookup(SIGPROCMASK_HOW, how)


SA_FLAGS = ((1, "SA_NOCLDSTOP"), (2, "SA_NOCLDWAIT"), (0x80000000, "SA_RESETHAND"), (0x08000000, "SA_ONSTACK"),
            (0x10000000, "SA_RESTART"), (0x40000000, "SA_NODEFER"), (4, "SA_SIGINFO"),
            (0x04000000, "SA_RESTORER"))
_SA_HANDLERS = ((0, "SIG_DFL"), (1, "SIG_IGN"))


def sigaction_u(ctx: Any, addr: int) -> str:
    """The kernel's struct sigaction (handler, flags, restorer, mask: 4 x 8 bytes)."""
    if addr & M64 == 0:
        return "NULL"
    data = F._read(ctx, addr, 32)
    if len(data) < 32:
        return "0x%x" % (addr & M64)
    handler, flags, restorer, mask = (int.from_bytes(data[i:i + 8], "little") for i in range(0, 32, 8))
    out = lookup(_SA_HANDLERS, F.s64(handler))
    if handler not in (0, 1):
        out += ", " + lookup_or(SA_FLAGS, flags) + ", 0x%x, " % restorer + sigset_str(mask)
    return out


# --- futex -------------------------------------------------------------------------------------

FUTEX_OPS = tuple((i, n) for i, n in enumerate((
    "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP",
    "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET",
    "FUTEX_WAIT_REQUEUE_PI", "FUTEX_CMP_REQUEUE_PI"))) + tuple(
    (i | 128, n + "_PRIVATE") for i, n in enumerate((
        "FUTEX_WAIT", "FUTEX_WAKE", None, "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP",
        "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET",
        "FUTEX_WAIT_REQUEUE_PI", "FUTEX_CMP_REQUEUE_PI")) if n)


def futex_op(op: int) -> str:
    return lookup(FUTEX_OPS, u32(op))


_WAKE_OPS = ((0, "FUTEX_OP_SET"), (1, "FUTEX_OP_ADD"), (2, "FUTEX_OP_OR"), (3, "FUTEX_OP_ANDN"),
             (4, "FUTEX_OP_XOR"))
_WAKE_CMPS = ((0, "FUTEX_OP_CMP_EQ"), (1, "FUTEX_OP_CMP_NE"), (2, "FUTEX_OP_CMP_LT"), (3, "FUTEX_OP_CMP_LE"),
              (4, "FUTEX_OP_CMP_GT"), (5, "FUTEX_OP_CMP_GE"))


def futex_wake_op(enc: int) -> str:
    enc = s32(enc)
    op, cmp = (enc >> 28) & 7, (enc >> 24) & 15
    oparg = s32(enc << 8) >> 20
    cmparg = s32(enc << 20) >> 20
    head = "FUTEX_OP_OPARG_SHIFT|" if enc & (8 << 28) else ""
    return "{%s%s, %d, %s, %d}" % (head, lookup(_WAKE_OPS, op), oparg, lookup(_WAKE_CMPS, cmp), cmparg)


_fmts: dict[str, Any] = {}


def sprintf(fmt: str, *args: object) -> str:
    """stap's sprintf (the run-time's own formatter, so %p/%#x/%u print as stap prints them)."""
    f = _fmts.get(fmt)
    if f is None:
        from ..runtime import formatting
        f = _fmts[fmt] = formatting.compile_format(fmt, sprintf=True)
    return f(args)


def futex_argstr(v: Any) -> str:
    """stap's per-operation argstr: exact (unmasked) op values pick the longer forms."""
    ctx, op = v.ctx, v.get("op")
    ua, val, ut, u2, v3 = (v.get(n) for n in ("futex_uaddr", "val", "utime_uaddr", "uaddr2_uaddr", "val3"))
    name = futex_op(op)
    if op == 10:
        return sprintf("%p, %s, %d, %#x", ua, name, val, v3)
    if op == 0:
        return sprintf("%p, %s, %d, %s", ua, name, val, F.timespec(ctx, ut))
    if op == 9:
        return sprintf("%p, %s, %d, %s, %#x", ua, name, val, F.timespec(ctx, ut), v3)
    if op == 3:
        return sprintf("%p, %s, %d, %d, %p", ua, name, val, ut, u2)
    if op in (4, 12):
        return sprintf("%p, %s, %d, %u, %p, %d", ua, name, val, ut, u2, v3)
    if op == 5:
        return sprintf("%p, %s, %d, %u, %p, %s", ua, name, val, ut, u2, futex_wake_op(v3))
    if op == 11:
        return sprintf("%p, %s, %d, %s, %p", ua, name, val, F.timespec(ctx, ut), u2)
    return sprintf("%p, %s, %d", ua, name, val)


# --- files ------------------------------------------------------------------------------------

FCNTL_CMDS = ((0, "F_DUPFD"), (1, "F_GETFD"), (2, "F_SETFD"), (3, "F_GETFL"), (4, "F_SETFL"), (5, "F_GETLK"),
              (6, "F_SETLK"), (7, "F_SETLKW"), (8, "F_SETOWN"), (9, "F_GETOWN"), (10, "F_SETSIG"),
              (11, "F_GETSIG"), (15, "F_SETOWN_EX"), (16, "F_GETOWN_EX"), (17, "F_GETOWNER_UIDS"),
              (1024, "F_SETLEASE"), (1025, "F_GETLEASE"), (1030, "F_DUPFD_CLOEXEC"), (1026, "F_NOTIFY"),
              (1031, "F_SETPIPE_SZ"), (1032, "F_GETPIPE_SZ"))


def fcntl_cmd(cmd: int) -> str:
    return lookup(FCNTL_CMDS, u32(cmd))


PIPE2 = ((O_NONBLOCK, "O_NONBLOCK"), (O_CLOEXEC, "O_CLOEXEC"), (O_DIRECT, "O_DIRECT"))


def pipe2_flags(f: int) -> str:
    return lookup_or(PIPE2, u32(f))


def fildes(ctx: Any, addr: int, i: int) -> int:
    if addr & M64 == 0:
        return 0
    data = F._read(ctx, addr, 8)
    return int.from_bytes(data[4 * i:4 * i + 4], "little", signed=True) if len(data) == 8 else 0


STATX_MASK = ((0x6000, "AT_STATX_SYNC_TYPE"), (0, "AT_STATX_SYNC_AS_STAT"), (0x2000, "AT_STATX_FORCE_SYNC"),
              (0x4000, "AT_STATX_DONT_SYNC"))


def statx_mask(m: int) -> str:
    """stap looks the statx mask up in the AT_STATX_* sync-type list (so most masks print in hex)."""
    return lookup(STATX_MASK, s32(m))


RENAME = ((1, "RENAME_NOREPLACE"), (2, "RENAME_EXCHANGE"), (4, "RENAME_WHITEOUT"))


def renameat2_flags(f: int) -> str:
    return lookup_or(RENAME, u32(f))


MFD = ((1, "MFD_CLOEXEC"), (2, "MFD_ALLOW_SEALING"), (O_CLOEXEC, "O_CLOEXEC"))


def mfd_flags(f: int) -> str:
    return lookup_or(MFD, u32(f))


# --- events -----------------------------------------------------------------------------------

EPOLL_CTL = ((1, "EPOLL_CTL_ADD"), (3, "EPOLL_CTL_MOD"), (2, "EPOLL_CTL_DEL"))


def epoll_op(o: int) -> str:
    return lookup(EPOLL_CTL, u32(o))


def epoll_create1_flags(f: int) -> str:
    return lookup_or(((O_CLOEXEC, "EPOLL_CLOEXEC"),), u32(f))


def eventfd2_flags(f: int) -> str:
    return lookup_or(((O_NONBLOCK, "EFD_NONBLOCK"), (O_CLOEXEC, "EFD_CLOEXEC"), (1, "EFD_SEMAPHORE")), u32(f))


def inotify_init1_flags(f: int) -> str:
    return lookup_or(((O_NONBLOCK, "IN_NONBLOCK"), (O_CLOEXEC, "IN_CLOEXEC")), u32(f))


INOTIFY_MASK = ((0x1, "IN_ACCESS"), (0x2, "IN_MODIFY"), (0x4, "IN_ATTRIB"), (0x8, "IN_CLOSE_WRITE"),
                (0x10, "IN_CLOSE_NOWRITE"), (0x20, "IN_OPEN"), (0x40, "IN_MOVED_FROM"), (0x80, "IN_MOVED_TO"),
                (0x100, "IN_CREATE"), (0x200, "IN_DELETE"), (0x400, "IN_DELETE_SELF"), (0x800, "IN_MOVE_SELF"),
                (0x2000, "IN_UNMOUNT"), (0x4000, "IN_Q_OVERFLOW"), (0x8000, "IN_IGNORED"),
                (0x1000000, "IN_ONLYDIR"), (0x2000000, "IN_DONT_FOLLOW"), (0x4000000, "IN_EXCL_UNLINK"),
                (0x20000000, "IN_MASK_ADD"), (0x40000000, "IN_ISDIR"), (0x80000000, "IN_ONESHOT"))


def inotify_mask(m: int) -> str:
    return lookup_or(INOTIFY_MASK, u32(m))


TIMERFD = ((1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET"), (O_CLOEXEC, "TFD_CLOEXEC"),
           (O_NONBLOCK, "TFD_NONBLOCK"))


def timerfd_flags(f: int) -> str:
    return lookup_or(TIMERFD, u32(f))


def itimerspec_u(ctx: Any, addr: int) -> str:
    """[interval.sec.nsec,value] as stap prints it (int fields, nanoseconds padded to six)."""
    if addr & M64 == 0:
        return "NULL"
    data = F._read(ctx, addr, 32)
    if len(data) < 32:
        return "0x%x" % (addr & M64)
    f = [s32(int.from_bytes(data[i:i + 8], "little")) for i in range(0, 32, 8)]
    return "[%d.%06d,%d.%06d]" % tuple(f)


CLOCKS = tuple(enumerate((
    "CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID",
    "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME",
    "CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM", "CLOCK_SGI_CYCLE", "CLOCK_TAI")))


def clock_id(c: int) -> str:
    return lookup(CLOCKS, u32(c))


def nanosleep_flags(f: int) -> str:
    return lookup(((1, "TIMER_ABSTIME"),), u32(f))


def timeval_u(ctx: Any, addr: int) -> str:
    if addr & M64 == 0:
        return "NULL"
    data = F._read(ctx, addr, 16)
    if len(data) < 16:
        return "0x%x" % (addr & M64)
    sec = int.from_bytes(data[:8], "little", signed=True)
    usec = int.from_bytes(data[8:], "little", signed=True)
    return "[%d.%06d]" % (sec, usec)


# --- sockets ----------------------------------------------------------------------------------

SOCKOPT_NAMES = ((1, "SO_DEBUG"), (2, "SO_REUSEADDR"), (3, "SO_TYPE"), (4, "SO_ERROR"), (5, "SO_DONTROUTE"),
                 (6, "SO_BROADCAST"), (7, "SO_SNDBUF"), (8, "SO_RCVBUF"), (32, "SO_SNDBUFFORCE"),
                 (33, "SO_RCVBUFFORCE"), (9, "SO_KEEPALIVE"), (10, "SO_OOBINLINE"), (11, "SO_NO_CHECK"),
                 (12, "SO_PRIORITY"), (13, "SO_LINGER"), (14, "SO_BSDCOMPAT"), (15, "SO_REUSEPORT"),
                 (16, "SO_PASSCRED"), (17, "SO_PEERCRED"), (18, "SO_RCVLOWAT"), (19, "SO_SNDLOWAT"),
                 (20, "SO_RCVTIMEO"), (21, "SO_SNDTIMEO"), (22, "SO_SECURITY_AUTHENTICATION"),
                 (23, "SO_SECURITY_ENCRYPTION_TRANSPORT"), (24, "SO_SECURITY_ENCRYPTION_NETWORK"),
                 (25, "SO_BINDTODEVICE"), (26, "SO_ATTACH_FILTER"), (27, "SO_DETACH_FILTER"),
                 (28, "SO_PEERNAME"), (29, "SO_TIMESTAMP"), (30, "SO_ACCEPTCONN"), (31, "SO_PEERSEC"),
                 (34, "SO_PASSSEC"), (35, "SO_TIMESTAMPNS"), (36, "SO_MARK"), (37, "SO_TIMESTAMPING"),
                 (38, "SO_PROTOCOL"), (39, "SO_DOMAIN"), (40, "SO_RXQ_OVFL"), (41, "SO_WIFI_STATUS"),
                 (42, "SO_PEEK_OFF"), (43, "SO_NOFCS"), (44, "SO_LOCK_FILTER"), (45, "SO_SELECT_ERR_QUEUE"),
                 (46, "SO_BUSY_POLL"), (47, "SO_MAX_PACING_RATE"), (48, "SO_BPF_EXTENSIONS"),
                 (49, "SO_INCOMING_CPU"), (50, "SO_ATTACH_BPF"), (51, "SO_ATTACH_REUSEPORT_CBPF"),
                 (52, "SO_ATTACH_REUSEPORT_EBPF"), (53, "SO_CNX_ADVICE"), (54, "SCM_TIMESTAMPING_OPT_STATS"),
                 (55, "SO_MEMINFO"), (56, "SO_INCOMING_NAPI_ID"), (57, "SO_COOKIE"),
                 (58, "SCM_TIMESTAMPING_PKTINFO"), (59, "SO_PEERGROUPS"), (60, "SO_ZEROCOPY"), (61, "SO_TXTIME"),
                 (62, "SO_BINDTOIFINDEX"), (63, "SO_TIMESTAMP_NEW"), (64, "SO_TIMESTAMPNS_NEW"),
                 (65, "SO_TIMESTAMPING_NEW"), (66, "SO_RCVTIMEO_NEW"), (67, "SO_SNDTIMEO_NEW"))


def sockopt_optname(o: int) -> str:
    """stap names every option from the SOL_SOCKET list, whatever the level."""
    return lookup(SOCKOPT_NAMES, o)


SOCKOPT_LEVELS = ((0, "SOL_IP"), (1, "SOL_SOCKET"), (6, "SOL_TCP"), (17, "SOL_UDP"), (41, "SOL_IPV6"),
                  (58, "SOL_ICMPV6"), (132, "SOL_SCTP"), (136, "SOL_UDPLITE"), (255, "SOL_RAW")) + tuple(
    (256 + i, n) for i, n in enumerate((
        "SOL_IPX", "SOL_AX25", "SOL_ATALK", "SOL_NETROM", "SOL_ROSE", "SOL_DECNET", "SOL_X25", "SOL_PACKET",
        "SOL_ATM", "SOL_AAL", "SOL_IRDA", "SOL_NETBEUI", "SOL_LLC", "SOL_DCCP", "SOL_NETLINK", "SOL_TIPC",
        "SOL_RXRPC", "SOL_PPPOL2TP", "SOL_BLUETOOTH", "SOL_PNPIPE", "SOL_RDS", "SOL_IUCV", "SOL_CAIF",
        "SOL_ALG", "SOL_NFC")))


def sockopt_level(level: int) -> str:
    return lookup(SOCKOPT_LEVELS, level)


# --- memory -----------------------------------------------------------------------------------

MADV = ((0, "MADV_NORMAL"), (1, "MADV_RANDOM"), (2, "MADV_SEQUENTIAL"), (3, "MADV_WILLNEED"),
        (4, "MADV_DONTNEED"), (8, "MADV_FREE"), (9, "MADV_REMOVE"), (10, "MADV_DONTFORK"), (11, "MADV_DOFORK"),
        (100, "MADV_HWPOISON"), (101, "MADV_SOFT_OFFLINE"), (12, "MADV_MERGEABLE"), (13, "MADV_UNMERGEABLE"),
        (14, "MADV_HUGEPAGE"), (15, "MADV_NOHUGEPAGE"), (16, "MADV_DONTDUMP"), (17, "MADV_DODUMP"))


def madvise_advice(a: int) -> str:
    return lookup(MADV, u32(a))


def mremap_flags(f: int) -> str:
    return lookup_or(((1, "MREMAP_MAYMOVE"), (2, "MREMAP_FIXED")), u32(f))


# --- process ----------------------------------------------------------------------------------

ARCH_PRCTL = ((0x1002, "ARCH_SET_FS"), (0x1003, "ARCH_GET_FS"), (0x1001, "ARCH_SET_GS"), (0x1004, "ARCH_GET_GS"))


def arch_prctl_code(c: int) -> str:
    return lookup10(ARCH_PRCTL, s32(c))


RLIMITS = ((0xFFFFFFFF, "RLIM_INFINITY"),) + tuple(enumerate((
    "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIM_NLIMITS")))


def rlimit_resource(r: int) -> str:
    return lookup(RLIMITS, u32(r))


def rlimit_u(ctx: Any, addr: int) -> str:
    if addr & M64 == 0:
        return "NULL"
    data = F._read(ctx, addr, 16)
    if len(data) < 16:
        return "0x%x" % (addr & M64)
    cur = int.from_bytes(data[:8], "little", signed=True)
    mx = int.from_bytes(data[8:], "little", signed=True)
    return "[%d,%d]" % (cur, mx)


RUSAGE_WHO = ((0, "RUSAGE_SELF"), (0xFFFFFFFF, "RUSAGE_CHILDREN"), (0xFFFFFFFE, "RUSAGE_BOTH"),
              (1, "RUSAGE_THREAD"))


def rusage_who(w: int) -> str:
    return lookup(RUSAGE_WHO, u32(w))
