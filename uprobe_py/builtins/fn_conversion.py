"""Pure conversion built-ins: human-readable sizes and times, errno and
signal names, byte order, device numbers, wait statuses, IPv4 addresses.

Input and output are stap longs (Python ints in signed 64-bit range) and
strings (latin-1 `str`). Everything here is a pure function of its arguments
and of fixed facts of the running kernel (page size, HZ); nothing reads a
traced process.

Facts come from SystemTap 4.8's tapsets: `errno.stp`, `linux/proc_mem.stp`
(bytes_to_string), `linux/task_time.stp` (msecs_to_string, cputime_*),
`linux/inet.stp` and `linux/endian.stp` (byte order), `linux/dev.stp`,
`linux/aux_syscalls.stp` (W* macros), `linux/signal.stp`, `linux/ip.stp`,
`linux/rlimit.stp`.

Not here: anything that dereferences a kernel pointer (format_ipaddr of an
AF_INET6 address, d_name, task_* of a task_struct).
"""
from __future__ import annotations

import os
import sys

from uprobe_py.builtins.fn_time import KERNEL_HZ
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from uprobe_py.runtime.values import MASK64, wrap

G_MEM = "Memory Tapset"
G_TASKTIME = "Task Time Tapset"
G_ERRNO = "Errno Tapset"
G_DEV = "Device Tapset"
G_NET = "Networking Tapset"
G_SIGNAL = "Signal Tapset"
G_RLIMIT = "RLIMIT Tapset"


def _cdiv(a: int, b: int) -> int:
    """C division of a by a positive constant b (truncates toward zero)."""
    q = abs(a) // b
    return q if a >= 0 else -q


def _cmod(a: int, b: int) -> int:
    r = abs(a) % b
    return r if a >= 0 else -r


# --- sizes ------------------------------------------------------------------

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@builtin("mem_page_size", LONG, (), group=G_MEM)
def mem_page_size() -> int:
    return PAGE_SIZE


def _postfix(x: int, y: int, p: str) -> str:
    # _stp_number_to_string_postfix: " x.yyp", " xx.yp", " xxxp", "xxxxp"
    if x < 10:
        return "%d.%.2d%s" % (x, _cdiv(y * 100, 1024), p)
    if x < 100:
        return "%2d.%d%s" % (x, _cdiv(y * 10, 1024), p)
    return "%4d%s" % (x, p)


def bytes_to_string_impl(nbytes: int) -> str:
    if nbytes < 1024:
        return "%5d" % nbytes
    remain, nbytes = nbytes % 1024, nbytes // 1024    # nbytes > 0 here
    if nbytes < 1024:
        return _postfix(nbytes, remain, "K")
    remain, nbytes = nbytes % 1024, nbytes // 1024
    if nbytes < 1024:
        return _postfix(nbytes, remain, "M")
    remain, nbytes = nbytes % 1024, nbytes // 1024
    return _postfix(nbytes, remain, "G")


@builtin("bytes_to_string", STRING, (LONG,), group=G_MEM)
def bytes_to_string(nbytes: int) -> str:
    return bytes_to_string_impl(nbytes)


def pages_to_string_impl(pages: int) -> str:
    return bytes_to_string_impl(wrap(pages * PAGE_SIZE))


@builtin("pages_to_string", STRING, (LONG,), group=G_MEM)
def pages_to_string(pages: int) -> str:
    return pages_to_string_impl(pages)


# --- times ------------------------------------------------------------------

def _split_time(v: int, unit: int) -> tuple[int, int, int]:
    frac = _cmod(v, unit)
    secs = _cdiv(v, unit)
    return _cdiv(secs, 60), _cmod(secs, 60), frac


def msecs_to_string_impl(msecs: int) -> str:
    return "%dm%d.%.3ds" % _split_time(msecs, 1000)


@builtin("msecs_to_string", STRING, (LONG,), group=G_TASKTIME)
def msecs_to_string(msecs: int) -> str:
    return msecs_to_string_impl(msecs)


@builtin("usecs_to_string", STRING, (LONG,), group=G_TASKTIME)
def usecs_to_string(usecs: int) -> str:
    return "%dm%d.%.6ds" % _split_time(usecs, 1000000)


@builtin("nsecs_to_string", STRING, (LONG,), group=G_TASKTIME)
def nsecs_to_string(nsecs: int) -> str:
    return "%dm%d.%.9ds" % _split_time(nsecs, 1000000000)


# Since Linux 4.11 the kernel has no cputime_to_usecs()/cputime_to_msecs(),
# so task_time.stp falls back to jiffies_to_msecs()/jiffies_to_usecs(): the
# argument is taken as jiffies and the result is an `unsigned int`.
def _jiffies_to_msecs(j: int) -> int:
    j &= MASK64
    if 1000 % KERNEL_HZ == 0:
        r = (1000 // KERNEL_HZ) * j
    elif KERNEL_HZ % 1000 == 0:
        r = (j + KERNEL_HZ // 1000 - 1) // (KERNEL_HZ // 1000)
    else:
        r = -((-(j * 1000)) // KERNEL_HZ)     # DIV_ROUND_UP
    return r & 0xFFFFFFFF


def _jiffies_to_usecs(j: int) -> int:
    j &= MASK64
    if 1000000 % KERNEL_HZ == 0:
        r = (1000000 // KERNEL_HZ) * j
    else:
        r = (j * 1000000) // KERNEL_HZ
    return r & 0xFFFFFFFF


@builtin("cputime_to_msecs", LONG, (LONG,), group=G_TASKTIME)
def cputime_to_msecs(cputime: int) -> int:
    return _jiffies_to_msecs(cputime)


@builtin("cputime_to_usecs", LONG, (LONG,), group=G_TASKTIME)
def cputime_to_usecs(cputime: int) -> int:
    return _jiffies_to_usecs(cputime)


def cputime_to_string_impl(cputime: int) -> str:
    return msecs_to_string_impl(_jiffies_to_msecs(cputime))


@builtin("cputime_to_string", STRING, (LONG,), group=G_TASKTIME)
def cputime_to_string(cputime: int) -> str:
    return cputime_to_string_impl(cputime)


# --- errno ------------------------------------------------------------------

# errno.stp's errlist[]: asm-generic/errno-base.h and asm-generic/errno.h
# (x86_64, arm64). 41 (EWOULDBLOCK) and 58 (EDEADLOCK) are aliases with no
# entry of their own; indexes past ENOTRECOVERABLE are absent.
_ERRNAMES: tuple[str, ...] = tuple("""
- EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM
EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE
EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE
EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG
EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO
EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE
ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ
EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART
ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT
EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT
EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED
ECONNRESET ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT
ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN
ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY
EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE
""".split())
assert len(_ERRNAMES) == 132 and _ERRNAMES[131] == "ENOTRECOVERABLE"


def _errno_index(err: int) -> int:
    e = abs(err) if err != -(1 << 63) else 0    # C `-e` of INT64_MIN stays negative
    if 0 < e < len(_ERRNAMES) and _ERRNAMES[e] != "-":
        return e
    return 0


@builtin("errno_str", STRING, (LONG,), group=G_ERRNO)
def errno_str(err: int) -> str:
    # The man page promises "E#3333" for unknown values; the 4.8 code returns "".
    e = _errno_index(err)
    return _ERRNAMES[e] if e else ""


@builtin("errno_p", LONG, (LONG,), group=G_ERRNO)
def errno_p(err: int) -> int:
    return _errno_index(err)


@builtin("return_str", STRING, (LONG, LONG), group=G_ERRNO)
def return_str(fmt: int, ret: int) -> str:
    if ret < 0 and _errno_index(ret):
        return "%d (%s)" % (ret, _ERRNAMES[_errno_index(ret)])
    if fmt == 2:
        return "0x%x" % (ret & MASK64)
    if fmt == 3:
        return "0%o" % (ret & MASK64)     # stap's %#o always prepends a 0
    return "%d" % ret


# --- byte order ---------------------------------------------------------------

_LITTLE = sys.byteorder == "little"


def _swap(v: int, nbytes: int) -> int:
    return int.from_bytes(v.to_bytes(nbytes, "little"), "big")


def _to_be(v: int, nbytes: int) -> int:
    v &= (1 << (8 * nbytes)) - 1
    return _swap(v, nbytes) if _LITTLE else v


def _to_le(v: int, nbytes: int) -> int:
    v &= (1 << (8 * nbytes)) - 1
    return v if _LITTLE else _swap(v, nbytes)


@builtin("htons", LONG, (LONG,), group=G_NET)
def htons(x: int) -> int:
    return _to_be(x, 2)


@builtin("htonl", LONG, (LONG,), group=G_NET)
def htonl(x: int) -> int:
    return _to_be(x, 4)


@builtin("htonll", LONG, (LONG,), group=G_NET)
def htonll(x: int) -> int:
    return wrap(_to_be(x, 8))


@builtin("ntohs", LONG, (LONG,), group=G_NET)
def ntohs(x: int) -> int:
    return _to_be(x, 2)


@builtin("ntohl", LONG, (LONG,), group=G_NET)
def ntohl(x: int) -> int:
    return _to_be(x, 4)


@builtin("ntohll", LONG, (LONG,), group=G_NET)
def ntohll(x: int) -> int:
    return wrap(_to_be(x, 8))


@builtin("big_endian2", LONG, (LONG,), group=G_NET)
def big_endian2(x: int) -> int:
    return _to_be(x, 2)


@builtin("big_endian4", LONG, (LONG,), group=G_NET)
def big_endian4(x: int) -> int:
    return _to_be(x, 4)


@builtin("big_endian8", LONG, (LONG,), group=G_NET)
def big_endian8(x: int) -> int:
    return wrap(_to_be(x, 8))


@builtin("little_endian2", LONG, (LONG,), group=G_NET)
def little_endian2(x: int) -> int:
    return _to_le(x, 2)


@builtin("little_endian4", LONG, (LONG,), group=G_NET)
def little_endian4(x: int) -> int:
    return _to_le(x, 4)


@builtin("little_endian8", LONG, (LONG,), group=G_NET)
def little_endian8(x: int) -> int:
    return wrap(_to_le(x, 8))


# --- IPv4 addresses -------------------------------------------------------------

AF_INET_VALUE = 2
AF_INET6_VALUE = 10


@builtin("AF_INET", LONG, (), group=G_NET)
def af_inet() -> int:
    return AF_INET_VALUE


@builtin("AF_INET6", LONG, (), group=G_NET)
def af_inet6() -> int:
    return AF_INET6_VALUE


def _ipv4(addr: int) -> str:
    # (__be32)addr printed with %pI4: the four bytes in memory order.
    b = (addr & 0xFFFFFFFF).to_bytes(4, sys.byteorder)
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


@builtin("ip_ntop", STRING, (LONG,), group=G_NET)
def ip_ntop(addr: int) -> str:
    return _ipv4(addr)


@builtin("format_ipaddr", STRING, (LONG, LONG), group=G_NET)
def format_ipaddr(addr: int, family: int) -> str:
    if family == AF_INET_VALUE:
        return _ipv4(addr)
    if family == AF_INET6_VALUE:
        # stap reads a struct in6_addr from *kernel* memory at addr.
        raise StapRuntimeError(
            "format_ipaddr: an AF_INET6 address is a kernel pointer, "
            "which uprobe-py cannot read")
    return "*unknown address family*"


# --- device numbers (kdev_t, MINORBITS = 20) -------------------------------------

@builtin("MAJOR", LONG, (LONG,), group=G_DEV)
def major(dev: int) -> int:
    return (dev >> 20) & 0xFFFFFFFF


@builtin("MINOR", LONG, (LONG,), group=G_DEV)
def minor(dev: int) -> int:
    return dev & 0xFFFFF


@builtin("MKDEV", LONG, (LONG, LONG), group=G_DEV)
def mkdev(major_: int, minor_: int) -> int:
    return wrap((major_ << 20) | minor_)


@builtin("usrdev2kerndev", LONG, (LONG,), group=G_DEV)
def usrdev2kerndev(dev: int) -> int:
    # new_decode_dev(u32): the 8:12:12 user encoding to the kernel's 12:20.
    dev &= 0xFFFFFFFF
    ma = (dev & 0xFFF00) >> 8
    mi = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    return ((ma << 20) | mi) & 0xFFFFFFFF


# --- wait(2) status macros (linux/aux_syscalls.stp) --------------------------------

@builtin("WIFEXITED", LONG, (LONG,), group=G_SIGNAL)
def wifexited(f: int) -> int:
    return 1 if (f & 0x7F) == 0 else 0


@builtin("WEXITSTATUS", LONG, (LONG,), group=G_SIGNAL)
def wexitstatus(f: int) -> int:
    return (f & 0xFF00) >> 8


@builtin("WTERMSIG", LONG, (LONG,), group=G_SIGNAL)
def wtermsig(f: int) -> int:
    return f & 0x7F


# --- signals --------------------------------------------------------------------

_SIGNAMES: tuple[str, ...] = (
    "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
    "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT",
    "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
    "WINCH", "IO/POLL", "PWR", "SYS", "RTMIN",
) + tuple("RTMIN+%d" % i for i in range(1, 33))


@builtin("signal_str", STRING, (LONG,), group=G_SIGNAL)
def signal_str(num: int) -> str:
    # A lookup in the tapset's __sig[] array: "" for anything not 1..64.
    return _SIGNAMES[num] if 0 < num < len(_SIGNAMES) else ""


@builtin("sigset_mask_str", STRING, (LONG,), needs_ctx=True, group=G_SIGNAL)
def sigset_mask_str(ctx: Context, mask: int) -> str:
    # Signals 1.._NSIG-1 joined with ","; strlcat() caps the text at
    # MAXSTRINGLEN-1 bytes *before* the trailing comma is dropped.
    s = "".join("%d," % i for i in range(1, 64) if (mask >> (i - 1)) & 1)
    s = s[:ctx.session.maxstringlen - 1]
    return s[:-1]


_SA_FLAGS = ((0x00000001, "NOCLDSTOP|"), (0x00000002, "NOCLDWAIT|"),
             (0x00000004, "SIGINFO|"), (0x08000000, "ONSTACK|"),
             (0x10000000, "RESTART|"), (0x40000000, "NODEFER|"),
             (0x80000000, "RESETHAND|"), (0x04000000, "RESTORER|"))


@builtin("sa_flags_str", STRING, (LONG,), group=G_SIGNAL)
def sa_flags_str(sa_flags: int) -> str:
    s = "".join(name for bit, name in _SA_FLAGS if sa_flags & bit)
    return s[:-1]


# --- resource limits --------------------------------------------------------------

_RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4, "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10,
    "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}


@builtin("rlimit_from_str", LONG, (STRING,), group=G_RLIMIT)
def rlimit_from_str(lim_str: str) -> int:
    return _RLIMITS.get(lim_str, -1)
