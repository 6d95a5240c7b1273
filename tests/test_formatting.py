"""Tests for uprobe_py.runtime.formatting (stap 4.8 printf/sprintf).

Where the expected values come from:
  [man]     man stap(1), section "printf" and its Examples.
  [langref] SystemTap Language Reference, 9.2 printf (binary write examples).
  [oracle]  the real stap 4.8 translator: `stap-oracle -p2 -e ...` (diagnostics)
            and `stap -p3` (the C code it generates for printf).
  [runtime] stap 4.8's runtime/vsprintf.c (number(), _stp_vsprint_char,
            _stp_vsprint_memory, _stp_vsprint_binary), called the way the
            generated C calls them; these values were checked by compiling the
            installed runtime functions in a scratch harness (not in the repo).
  [C]       C printf semantics, where stap's runtime behaves the same.
"""
from __future__ import annotations

import pytest

from uprobe_py.runtime.errors import StapRuntimeError
from uprobe_py.runtime.formatting import (
    Conversion,
    FormatError,
    compile_format,
    parse_format,
    stap_string_repr,
)


def fmt(f, *args, **kw):
    return compile_format(f, **kw)(args)


def sfmt(f, *args, **kw):
    return compile_format(f, sprintf=True, **kw)(args)


MEMBASE = 0x10000
MEM = bytes(range(0x41, 0x41 + 26)) + b"\x00\x01\xff\n"  # "A..Z" then 4 odd bytes


def read_memory(addr, n):
    """A fake target: MEM is mapped at MEMBASE, everything else faults."""
    if not MEMBASE <= addr < MEMBASE + len(MEM):
        raise OSError("EFAULT")
    return MEM[addr - MEMBASE: addr - MEMBASE + n]  # short read at the end


# ------------------------------------------------------------------ parsing

def test_parse_components_and_arg_types():
    spec = parse_format("a%-5d b%*.*s%%c%p")
    assert spec.components[0] == "a"
    c = spec.components[1]
    assert isinstance(c, Conversion) and (c.flag, c.width, c.precision, c.conv) == ("-", 5, None, "d")
    assert spec.components[2] == " b"
    assert spec.components[4] == "%c"  # %% is a literal percent
    # [oracle] `*` width/precision arguments must be longs ("%*d", "a", 1 -> type mismatch)
    assert spec.arg_types == ["long", "long", "long", "string", "long"]
    assert spec.nargs == 5


@pytest.mark.parametrize("f,types", [
    # [oracle] "type mismatch: expected long but found string" for %d %c %m %b %p,
    # "expected string but found long" for %s
    ("%d%i%u%o%x%X", ["long"] * 6),
    ("%c%m%M%b%p", ["long"] * 5),
    ("%s", ["string"]),
    ("%ls%ld", ["string", "long"]),  # [oracle] a single 'l' modifier is accepted
    ("no conversions %%", []),
])
def test_arg_types(f, types):
    assert parse_format(f).arg_types == types


@pytest.mark.parametrize("f,msg", [
    # [oracle] pass 1: "parse error: invalid or missing conversion specifier"
    ("%+-5d", "invalid or missing conversion specifier"),  # only one flag is read
    ("%lld", "invalid or missing conversion specifier"),
    ("%hd", "invalid or missing conversion specifier"),
    ("%f", "invalid or missing conversion specifier"),
    ("%n", "invalid or missing conversion specifier"),
    ("%.%d", "invalid or missing conversion specifier"),
    ("%", "invalid or missing conversion specifier"),
    ("abc%", "invalid or missing conversion specifier"),
    ("%%%", "invalid or missing conversion specifier"),
    # [oracle] pass 1: "parse error: trailing incomplete print format conversion"
    ("%5", "trailing incomplete print format conversion"),
    ("%-", "trailing incomplete print format conversion"),
    ("%#", "trailing incomplete print format conversion"),
    ("%.5", "trailing incomplete print format conversion"),
    ("%5.", "trailing incomplete print format conversion"),
    ("%*", "trailing incomplete print format conversion"),
    ("%.*", "trailing incomplete print format conversion"),
])
def test_parse_errors(f, msg):
    with pytest.raises(FormatError) as ei:
        parse_format(f)
    assert str(ei.value) == msg
    assert isinstance(ei.value, ValueError)
    with pytest.raises(FormatError):
        compile_format(f)


def test_incomplete_conversion_that_sets_nothing_is_dropped():
    # [oracle] `stap -p3 -e 'probe begin { printf("x%.") }'` emits _stp_print("x"); same for "x%l"
    assert parse_format("x%.").arg_types == []
    assert fmt("x%.") == "x"
    assert fmt("x%l") == "x"
    # [oracle] "a%.b" is %b with no precision: it takes one argument
    assert parse_format("a%.b").arg_types == ["long"]


def test_width_0_after_flag_is_a_width():
    # [oracle] "%-05d|" is accepted: '-' is the flag, "05" the width
    assert fmt("%-05d|", 1) == "1    |"
    # [runtime] "%05d": '0' is the flag; zero padding
    assert fmt("%05d", -3) == "-0003"


# ------------------------------------------------------------------ man page examples

def test_man_page_example_line():
    # [man] printf("%c is %s; %x or %X or %p; %d or %u\n",97,a,p,p,p,j,j)
    p, j = 0x1234ABCD, -1
    assert fmt("%c is %s; %x or %X or %p; %d or %u\n", 97, "alice", p, p, p, j, j) == \
        "a is alice; 1234abcd or 1234ABCD or 0x1234abcd; -1 or 18446744073709551615\n"


def test_man_page_alternate_forms():
    # [man] printf("%#o %#x %#X\n", 1, 2, 3) prints 01 0x2 0X3
    assert fmt("%#o %#x %#X\n", 1, 2, 3) == "01 0x2 0X3\n"
    # [man] printf("%#c %#c %#c\n", 0, 9, 42) prints \000 \t *
    assert fmt("%#c %#c %#c\n", 0, 9, 42) == "\\000 \\t *\n"


def test_man_page_4b():
    # [man] printf("%4b", p) prints 0x1234abcd as 4 bytes of binary data (little-endian host)
    assert fmt("%4b", 0x1234ABCD) == "\xcd\xab\x34\x12"


# ------------------------------------------------------------------ langref examples

def test_langref_binary_table():
    # [langref] printf("%3d: %1b%1b%1b\n", i, i, i-32, i-64) for i in 97..109
    f = compile_format("%3d: %1b%1b%1b\n")
    out = "".join(f((i, i, i - 32, i - 64)) for i in range(97, 110))
    assert out.splitlines()[0] == " 97: aA!"
    assert out.splitlines()[6] == "103: gG'"
    assert out.splitlines()[-1] == "109: mM-"


def test_langref_binary_hexdump():
    # [langref] printf("%b%b", 0xc0dedbad, 0x12345678) | hexdump -C
    assert fmt("%b%b", 0xC0DEDBAD, 0x12345678).encode("latin-1") == bytes.fromhex(
        "addbdec000000000" "7856341200000000")


def test_langref_hello_world():
    # [langref] printf("%1b%1b%1blo %1b%1brld\n", 72,101,108,87,111) prints Hello World
    assert fmt("%1b%1b%1blo %1b%1brld\n", 72, 101, 108, 87, 111) == "Hello World\n"


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("f,v,out", [
    ("%d", 0, "0"),                                        # [C]
    ("%d", -9223372036854775808, "-9223372036854775808"),   # [C] int64 minimum
    ("%i", 42, "42"),                                      # [C]
    ("%5d|", 42, "   42|"),                                # [C]
    ("%-5d|", 42, "42   |"),                               # [C]
    ("%+d", 5, "+5"),                                      # [C]
    ("% d", 5, " 5"),                                      # [C]
    ("%+d", -5, "-5"),                                     # [C]
    ("%.3d", 5, "005"),                                    # [C]
    ("%.0d", 0, "0"),            # [runtime] number() always emits a digit (C prints "")
    ("%08.3d", 5, "00000005"),   # [runtime] 0 flag still pads when a precision is given
    ("%u", -1, "18446744073709551615"),                    # [man]
    ("%+u", 5, "5"),             # [runtime] '+' only acts with SIGN (d/i)
    ("% x", 255, "ff"),          # [runtime] ' ' only acts with SIGN
    ("%x", -1, "ffffffffffffffff"),                        # [runtime] unsigned 64-bit
    ("%X", -2, "FFFFFFFFFFFFFFFE"),                        # [runtime]
    ("%o", -1, "1777777777777777777777"),                  # [runtime]
    ("%o", 8, "10"),                                       # [C]
    ("%#x", 0, "0x0"),           # [runtime] SPECIAL prefix even for 0 (C prints "0")
    ("%#o", 0, "00"),            # [runtime] (C prints "0")
    ("%#.3o", 8, "0010"),        # [runtime] the 0 prefix is added to the precision digits
    ("%#6o|", 8, "   010|"),     # [runtime]
    ("%#08x", 255, "    0xff"),  # [oracle]+[runtime] one flag only: "08" is a width, no zero pad
    ("%08x", 255, "000000ff"),   # [C]
    ("%#.4x", 255, "0x00ff"),    # [C] / [runtime]
    ("%#d", 7, "7"),             # [runtime] SPECIAL means nothing in base 10
    ("%ld", 7, "7"),             # [oracle] 'l' accepted and ignored
])
def test_numbers(f, v, out):
    assert fmt(f, v) == out


@pytest.mark.parametrize("f,v,out", [
    ("%p", 0x1234ABCD, "0x1234abcd"),       # [man]
    ("%p", 0, "0x0"),                       # [runtime] %p == %#x since stap 1.3
    ("%p", -1, "0xffffffffffffffff"),       # [runtime] int64 value seen unsigned
    ("%18p|", 1, "               0x1|"),    # [runtime]
    ("%-6p|", 1, "0x1   |"),                # [runtime]
    ("%018p", 255, "0x00000000000000ff"),   # [runtime]
    ("%+p", 1, "0x1"),                      # [runtime] no sign for %p
])
def test_pointer(f, v, out):
    assert fmt(f, v) == out


def test_dynamic_width_and_precision():
    assert fmt("%*d|", 5, 1) == "    1|"                 # [C]
    assert fmt("%.*d", 3, 1) == "001"                    # [C]
    assert fmt("%*.*s|", 6, 2, "abcdef") == "    ab|"    # [C]
    # [oracle]+[runtime] the generated C does clamp_t(int, arg, 0, room): a negative
    # width is 0 (no left-justify, unlike C) and a negative precision is 0
    assert fmt("%*d|", -5, 1) == "1|"
    assert fmt("%.*s|", -1, "abc") == "|"
    # the argument is cut to a C int first: 2**32 + 3 -> 3
    assert fmt("%*d|", 2**32 + 3, 1) == "  1|"
    assert fmt("%.*c|", 5, 65) == "A|"  # [runtime] %c ignores the precision (still consumed)


# ------------------------------------------------------------------ %c and %s

@pytest.mark.parametrize("f,v,out", [
    ("%c", 65, "A"),                 # [C]
    ("%c", 0x141, "A"),              # [runtime] the low byte is printed
    ("%c", -191, "A"),               # [runtime] -191 & 0xff == 0x41
    ("%c", 0, "\0"),                 # [runtime] a NUL byte is written by printf
    ("%3c|", 65, "  A|"),            # [C]
    ("%-3c|", 65, "A  |"),           # [C]
    ("%#c", 10, "\\n"),              # [runtime] C escapes
    ("%#c", 39, "\\'"),              # [runtime]
    ("%#c", 92, "\\\\"),             # [runtime]
    ("%#c", 34, '"'),                # [runtime] a double quote is not escaped
    ("%#c", 127, "\\177"),           # [runtime] octal fallback
    ("%#c", 200, "\\310"),           # [runtime] non-ASCII -> octal
    ("%#c", 7, "\\a"),               # [runtime]
])
def test_char(f, v, out):
    assert fmt(f, v) == out


@pytest.mark.parametrize("f,v,out", [
    ("%s", "hello", "hello"),        # [C]
    ("%.2s", "hello", "he"),         # [man]/[C] precision truncates
    ("%.0s|", "hello", "|"),         # [C]
    ("%7s|", "hello", "  hello|"),   # [C]
    ("%-7s|", "hello", "hello  |"),  # [C]
    ("%7.2s|", "hello", "     he|"),  # [C]
    ("%+s", "x", "x"),               # [runtime] sign flags do nothing for %s
    ("%#s", 'a"b\n', 'a"b\n'),       # [runtime] '#' does nothing for %s
    ("%05s|", "ab", "   ab\0|"),     # [runtime] _stp_vsprint_memory appends NUL for the 0 flag
    ("%s", "\xff\x80", "\xff\x80"),  # bytes pass through (latin-1 str)
])
def test_string(f, v, out):
    assert fmt(f, v) == out


# ------------------------------------------------------------------ %b

@pytest.mark.parametrize("f,v,hexout", [
    ("%b", 258, "0201000000000000"),         # [man] default 8 bytes
    ("%1b", 258, "02"),                      # [man]
    ("%2b", 258, "0201"),                    # [man]
    ("%.2b", 258, "0201"),                   # [runtime] precision also selects the size
    ("%8.2b", 258, "0000000000000201"),      # [runtime] NUL padding to the width
    ("%-8.2b", 258, "0201000000000000"),     # [runtime]
    ("%16b", 258, "0000000000000000" "0201000000000000"),  # [runtime]
    ("%-16b", 258, "0201000000000000" "0000000000000000"),  # [runtime]
    ("%3b", 258, "0201000000000000"),        # [runtime] invalid size -> 8 bytes
    ("%1b", -1, "ff"),                       # [runtime] truncated two's complement
    ("%4b", -2, "feffffff"),                 # [runtime]
])
def test_binary(f, v, hexout):
    assert fmt(f, v).encode("latin-1").hex() == hexout


def test_binary_odd_precision_uses_room_left():
    # [runtime] a precision that is not 1/2/4/8 is clamped to the room left in the
    # buffer by the generated C, which can turn it into a valid size: the reserved
    # size says 1 byte + 1 byte, the write puts 2 bytes of the value and loses "0".
    assert fmt("%1.20b%d", 0x0201, 0).encode("latin-1").hex() == "0102"


# ------------------------------------------------------------------ %m / %M

def test_memory_default_one_byte():
    # [man] %m: "the optional precision ... determines the number of bytes to read - default is 1 byte"
    assert fmt("%m", MEMBASE, read_memory=read_memory) == "A"
    # [man] %M: "default is 1 byte (2 hex chars)"
    assert fmt("%M", MEMBASE, read_memory=read_memory) == "41"


def test_memory_width_and_precision():
    # [man] "%10.4m prints 4 bytes of the memory in a 10-character-wide field"
    assert fmt("%10.4m|", MEMBASE, read_memory=read_memory) == "      ABCD|"
    # [man] "%10.4M prints 4 bytes of the memory as 8 hexadecimal characters in a 10-character-wide field"
    assert fmt("%10.4M|", MEMBASE, read_memory=read_memory) == "  41424344|"
    assert fmt("%-10.4M|", MEMBASE, read_memory=read_memory) == "41424344  |"  # [runtime]
    # [man] "%.*M hex-dumps a given number of bytes from a given buffer"
    assert fmt("%.*M", 3, MEMBASE + 26, read_memory=read_memory) == "0001ff"  # [runtime] lower-case hex
    assert fmt("%#.2m", MEMBASE + 1, read_memory=read_memory) == "BC"  # [man] '#': user memory
    assert fmt("%.0m", MEMBASE, read_memory=read_memory) == "A"       # [runtime] 0 -> 1 byte
    assert fmt("%0.2m|", MEMBASE, read_memory=read_memory) == "AB\0|"  # [runtime] 0 flag adds NUL


def test_memory_faults():
    # [runtime]/[oracle] a failed kread/uread sets STAP_MSG_LOC2C_01
    # "read fault [man error::fault] at 0x%lx" with the address of the failing byte
    with pytest.raises(StapRuntimeError) as ei:
        fmt("%m", 0x1234, read_memory=read_memory)
    assert ei.value.msg == "read fault [man error::fault] at 0x1234"
    end = MEMBASE + len(MEM)
    with pytest.raises(StapRuntimeError) as ei:
        fmt("%.4M", end - 2, read_memory=read_memory)  # short read
    assert ei.value.msg == "read fault [man error::fault] at 0x%x" % end
    with pytest.raises(StapRuntimeError) as ei:
        fmt("%m", -1, read_memory=read_memory)  # the address is a 64-bit unsigned pointer
    assert ei.value.msg == "read fault [man error::fault] at 0xffffffffffffffff"
    with pytest.raises(StapRuntimeError) as ei:
        fmt("%m", MEMBASE)  # no memory reader: every read faults
    assert ei.value.msg == "read fault [man error::fault] at 0x10000"


# ------------------------------------------------------------------ sprintf / buffer limits

def test_sprintf_is_a_c_string():
    # [oracle]+[runtime] sprintf returns a C string: it ends at the first NUL byte
    assert sfmt("a%cb", 0) == "a"
    assert sfmt("a%1bb", 0) == "a"
    assert sfmt("%b", 65) == "A"
    assert sfmt("%05s|", "ab") == "   ab"
    assert sfmt("%d-%s", 1, "x") == "1-x"
    # the same formats through printf keep every byte
    assert fmt("a%cb", 0) == "a\0b"


def test_sprintf_truncates_to_maxstringlen():
    # [oracle] the generated C writes into a MAXSTRINGLEN (512) buffer; the last byte is the NUL
    assert sfmt("%s%s", "x" * 300, "y" * 300) == "x" * 300 + "y" * 211
    # [runtime] widths are clamped to the room left (512), so the field's end is lost,
    # not its start: 507 spaces then "1234"
    assert sfmt("%600d", 12345) == " " * 507 + "1234"


def test_printf_buffer_limit():
    # [runtime] a single printf reserves at most STP_BUFFER_SIZE (8192) bytes and the
    # width is clamped to it: 8191 spaces then "1"
    out = fmt("%*d", 9000, 1)
    assert len(out) == 8192 and out.endswith(" 1")


# ------------------------------------------------------------------ misc

def test_literals_and_percent():
    assert fmt("100%%\n") == "100%\n"          # [C]
    assert fmt("%d%%", 5) == "5%"              # [C]
    assert fmt('say "hi"\\') == 'say "hi"\\'   # literal text is copied as is
    assert fmt("hello") == "hello"
    assert compile_format("hello")(()) == "hello"


def test_compiled_function_is_reusable():
    f = compile_format("%s=%d\n")
    assert f(("a", 1)) == "a=1\n"
    assert f(("b", -2)) == "b=-2\n"


def test_stap_string_repr():
    # [oracle] `stap -p3` for an unread string global emits the format "g=\"%#s\"\n" and
    # _stp_vsprint_memory(..., 's', 32): '#' does nothing for %s, so nothing is escaped
    assert stap_string_repr("abc") == '"abc"'
    assert stap_string_repr('a"b\n') == '"a"b\n"'
    assert stap_string_repr("") == '""'
