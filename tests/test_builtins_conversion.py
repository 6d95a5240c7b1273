"""Conversion built-ins (uprobe_py/builtins/fn_conversion.py).

Expected values come from `man 3stap function::NAME` or from the SystemTap 4.8
tapset sources named in each test.
"""
from __future__ import annotations


import pytest

from uprobe_py.builtins import fn_time
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from builtin_support import StubSession, fn


@pytest.mark.parametrize("n,want", [
    (0, "    0"), (1000, " 1000"), (-5, "   -5"),
    (1024, "1.00K"), (1536, "1.50K"), (10 * 1024, "10.0K"), (100 * 1024, " 100K"),
    (1024 * 1024, "1.00M"), (3 * 1024 ** 3, "3.00G"), (20000 * 1024 ** 3, "20000G"),
])
def test_bytes_to_string(n: int, want: str) -> None:
    # man bytes_to_string: 5 characters wide, K/M/G postfix, '.' + remainder
    # below 100 (proc_mem.stp _stp_number_to_string_postfix)
    assert fn("bytes_to_string", 1)(n) == want


def test_pages_to_string_and_page_size() -> None:
    page = fn("mem_page_size", 0)()
    assert page in (4096, 16384, 65536)
    # man pages_to_string: pages * page size through bytes_to_string
    assert fn("pages_to_string", 1)(1) == fn("bytes_to_string", 1)(page)


def test_time_strings() -> None:
    # man msecs_to_string: "XmY.ZZZs"; usecs: "XmY.ZZZZZZs"; nsecs 9 digits
    assert fn("msecs_to_string", 1)(61234) == "1m1.234s"
    assert fn("msecs_to_string", 1)(5) == "0m0.005s"
    assert fn("usecs_to_string", 1)(1000001) == "0m1.000001s"
    assert fn("nsecs_to_string", 1)(5) == "0m0.000000005s"
    assert fn("nsecs_to_string", 1)(3723 * 10 ** 9) == "62m3.000000000s"
    # task_time.stp uses C '/' and '%': signs are kept in every part
    assert fn("msecs_to_string", 1)(-1500) == "0m-1.-500s"


def test_cputime_conversions_use_jiffies() -> None:
    # Linux >= 4.11 has no cputime_to_*secs(); task_time.stp then uses
    # jiffies_to_msecs()/jiffies_to_usecs(), which return unsigned int.
    hz = fn_time.KERNEL_HZ
    if 1000 % hz == 0:
        assert fn("cputime_to_msecs", 1)(10) == 10 * (1000 // hz)
        assert fn("cputime_to_msecs", 1)(1 << 40) == ((1 << 40) * (1000 // hz)) & 0xFFFFFFFF
        assert fn("cputime_to_string", 1)(hz) == "0m1.000s"
    assert fn("cputime_to_usecs", 1)(hz) == 1000000


def test_errno() -> None:
    # man errno_str: "ENOENT for the number 2"; the sign is ignored (errno.stp)
    assert fn("errno_str", 1)(2) == "ENOENT"
    assert fn("errno_str", 1)(-2) == "ENOENT"
    assert fn("errno_str", 1)(35) == "EDEADLK"
    assert fn("errno_str", 1)(131) == "ENOTRECOVERABLE"
    # the man page promises "E#3333"; errno.stp leaves the result empty
    assert fn("errno_str", 1)(3333) == ""
    assert fn("errno_str", 1)(41) == ""        # EWOULDBLOCK has no own entry
    assert fn("errno_str", 1)(0) == ""
    assert fn("errno_p", 1)(-11) == 11
    assert fn("errno_p", 1)(999) == 0


def test_return_str() -> None:
    # man return_str: format 1 decimal, 2 hex, 3 octal; errno.stp adds the
    # errno name for negative errno values
    f = fn("return_str", 2)
    assert f(1, -2) == "-2 (ENOENT)"
    assert f(2, -2) == "-2 (ENOENT)"
    assert f(1, -999) == "-999"
    assert f(2, 255) == "0xff"
    assert f(2, -999) == "0xfffffffffffffc19"
    assert f(3, 8) == "010"
    assert f(3, 0) == "00"           # stap's %#o always prepends '0'
    assert f(1, 5) == "5"


def test_byte_order() -> None:
    # man htonl/htons/htonll/ntoh*: host <-> network (big-endian) order
    assert fn("htons", 1)(0x1234) == 0x3412
    assert fn("htonl", 1)(1) == 0x01000000
    assert fn("htonll", 1)(1) == 0x0100000000000000
    assert fn("ntohs", 1)(0x123456) == 0x5634          # (u16) cast first
    assert fn("ntohl", 1)(0x01000000) == 1
    assert fn("ntohll", 1)(0xFF) == -0x0100000000000000    # 0xff00.. as int64
    assert fn("big_endian4", 1)(0x11223344) == 0x44332211
    assert fn("little_endian2", 1)(0x123456) == 0x3456
    assert fn("little_endian8", 1)(-1) == -1


def test_devices() -> None:
    # linux/dev.stp: kdev_t is 12:20 (MINORBITS 20)
    assert fn("MKDEV", 2)(8, 1) == (8 << 20) | 1
    assert fn("MAJOR", 1)((8 << 20) | 1) == 8
    assert fn("MINOR", 1)((8 << 20) | 1) == 1
    # new_decode_dev(): user-space 0x0801 is major 8, minor 1
    assert fn("usrdev2kerndev", 1)(0x0801) == (8 << 20) | 1
    assert fn("usrdev2kerndev", 1)(0x12345678) == ((0x456 << 20) | 0x12378)


def test_wait_status() -> None:
    # linux/aux_syscalls.stp W* macros
    assert fn("WIFEXITED", 1)(0x0100) == 1
    assert fn("WEXITSTATUS", 1)(0x0300) == 3
    assert fn("WIFEXITED", 1)(0x0009) == 0
    assert fn("WTERMSIG", 1)(0x0089) == 9


def test_signals() -> None:
    ctx = Context(StubSession())
    # linux/signal.stp __sig[] table
    assert fn("signal_str", 1)(9) == "KILL"
    assert fn("signal_str", 1)(29) == "IO/POLL"
    assert fn("signal_str", 1)(64) == "RTMIN+32"
    assert fn("signal_str", 1)(65) == ""
    assert fn("signal_str", 1)(0) == ""
    assert fn("sigset_mask_str", 1)(ctx, 0b101) == "1,3"
    assert fn("sigset_mask_str", 1)(ctx, 0) == ""
    # strlcat caps at MAXSTRINGLEN-1, then the last character is dropped
    full = fn("sigset_mask_str", 1)(ctx, -1)
    assert len(full) == 126 and full.startswith("1,2,3,")
    assert fn("sa_flags_str", 1)(0x10000004) == "SIGINFO|RESTART"
    assert fn("sa_flags_str", 1)(0) == ""


def test_ipv4() -> None:
    # linux/ip.stp: the address is a __be32 printed with %pI4
    assert fn("ip_ntop", 1)(0x0100007F) == "127.0.0.1"
    assert fn("format_ipaddr", 2)(0x0100007F, 2) == "127.0.0.1"
    assert fn("format_ipaddr", 2)(0, 99) == "*unknown address family*"
    with pytest.raises(StapRuntimeError):
        fn("format_ipaddr", 2)(0x1000, 10)
    assert fn("AF_INET", 0)() == 2
    assert fn("AF_INET6", 0)() == 10


def test_rlimit_from_str() -> None:
    # man rlimit_from_str: 0 for RLIMIT_CPU, -1 for an unknown string
    assert fn("rlimit_from_str", 1)("RLIMIT_CPU") == 0
    assert fn("rlimit_from_str", 1)("RLIMIT_NOFILE") == 7
    assert fn("rlimit_from_str", 1)("RLIMIT_RTTIME") == 15
    assert fn("rlimit_from_str", 1)("nofile") == -1
