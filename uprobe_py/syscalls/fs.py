"""File-system calls: open/read/write/stat/... (stap's sysc_*.stp variable names and argstr formats)."""
from __future__ import annotations

from . import fmt as F
from .decode import (LONG, STRING, Var, call, derived, int_arg, long_arg, pointer_arg, uint_arg, ulong_arg, ustr, ustr_quoted)


def _open_argstr(v):
    if v.get("flags") & F.O_CREAT:
        return "%s, %s, 0%o" % (v.get("filename"), v.get("flags_str"), v.get("mode"))
    return "%s, %s" % (v.get("filename"), v.get("flags_str"))


def _openat_argstr(v):
    if v.get("flags") & F.O_CREAT:
        return "%s, %s, %s, 0%o" % (v.get("dfd_str"), v.get("filename"), v.get("flags_str"), v.get("mode"))
    return "%s, %s, %s" % (v.get("dfd_str"), v.get("filename"), v.get("flags_str"))


call("open", [("filename", ustr_quoted(1)), ("filename_unquoted", ustr(1)), ("flags", int_arg(2)),
              ("flags_str", derived(F.open_flags, "flags")), ("mode", uint_arg(3))], _open_argstr)
call("openat", [("dfd", int_arg(1)), ("dfd_str", derived(F.dfd, "dfd")), ("filename", ustr_quoted(2)),
                ("filename_unquoted", ustr(2)), ("flags", int_arg(3)),
                ("flags_str", derived(F.open_flags, "flags")), ("mode", uint_arg(4))], _openat_argstr)
call("creat", [("pathname", ustr_quoted(1)), ("pathname_unquoted", ustr(1)), ("mode", uint_arg(2))],
     "%s, %#o", "pathname", "mode")
call("read", [("fd", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("count", ulong_arg(3))],
     "%d, %p, %u", "fd", "buf_uaddr", "count")

_TRUNC = 50          # stap's syscall_string_trunc


def _buf(v):
    return F.buffer_quoted(v.ctx, v.get("buf_uaddr"), v.get("count"), _TRUNC)


call("write", [("fd", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("count", ulong_arg(3)),
               ("buf_str", Var("", STRING, _buf))], "%d, %s, %u", "fd", "buf_str", "count")
call("pread", [("fd", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("count", ulong_arg(3)),
               ("offset", long_arg(4))], "%d, %p, %u, %d", "fd", "buf_uaddr", "count", "offset",
     covers=("pread64",))
call("pwrite", [("fd", int_arg(1)), ("buf_uaddr", pointer_arg(2)), ("count", ulong_arg(3)),
                ("buf_str", Var("", STRING, _buf)), ("offset", long_arg(4))],
     "%d, %s, %u, %d", "fd", "buf_str", "count", "offset", covers=("pwrite64",))
call("readv", [("vector_uaddr", pointer_arg(2)), ("count", int_arg(3)), ("fd", int_arg(1))],
     "%d, %p, %d", "fd", "vector_uaddr", "count")
call("writev", [("vector_uaddr", pointer_arg(2)), ("count", int_arg(3)), ("fd", int_arg(1))],
     "%d, %p, %d", "fd", "vector_uaddr", "count")
call("close", [("fd", int_arg(1))], "%d", "fd")
call("lseek", [("fildes", int_arg(1)), ("offset", long_arg(2)), ("whence", uint_arg(3)),
               ("whence_str", derived(F.seek_whence, "whence"))], "%d, %d, %s", "fildes", "offset", "whence_str")
call("dup", [("oldfd", int_arg(1))], "%d", "oldfd")
call("dup2", [("oldfd", int_arg(1)), ("newfd", int_arg(2)), ("flags", derived(lambda: 0, type=LONG)),
              ("flags_str", derived(lambda: "0x0"))], "%d, %d", "oldfd", "newfd")
call("dup3", [("oldfd", int_arg(1)), ("newfd", int_arg(2)), ("flags", int_arg(3)),
              ("flags_str", derived(F.dup3_flags, "flags"))], "%d, %d, %s", "oldfd", "newfd", "flags_str")
call("access", [("pathname", ustr_quoted(1)), ("pathname_unquoted", ustr(1)), ("mode", int_arg(2)),
                ("mode_str", derived(F.access_mode, "mode"))], "%s, %s", "pathname", "mode_str")
call("faccessat", [("dirfd", int_arg(1)), ("dirfd_str", derived(F.dfd, "dirfd")), ("pathname", ustr_quoted(2)),
                   ("pathname_unquoted", ustr(2)), ("mode", int_arg(3)),
                   ("mode_str", derived(F.access_mode, "mode"))], "%s, %s, %s", "dirfd_str", "pathname", "mode_str")
call("stat", [("filename_uaddr", pointer_arg(1)), ("filename", ustr_quoted(1)), ("filename_unquoted", ustr(1)),
              ("buf_uaddr", pointer_arg(2))], "%s, %p", "filename", "buf_uaddr")
call("lstat", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1)), ("buf_uaddr", pointer_arg(2))],
     "%s, %p", "path", "buf_uaddr")
call("fstat", [("filedes", int_arg(1)), ("buf_uaddr", pointer_arg(2))], "%d, %p", "filedes", "buf_uaddr")
call("fstatat", [("dirfd", int_arg(1)), ("dirfd_str", derived(F.dfd, "dirfd")), ("path", ustr_quoted(2)),
                 ("path_unquoted", ustr(2)), ("buf_uaddr", pointer_arg(3)), ("flags", int_arg(4)),
                 ("flags_str", derived(F.at_flags, "flags"))],
     "%s, %s, %p, %s", "dirfd_str", "path", "buf_uaddr", "flags_str", covers=("newfstatat",))
call("unlink", [("pathname_uaddr", pointer_arg(1)), ("pathname", ustr_quoted(1)), ("pathname_unquoted", ustr(1))],
     "%s", "pathname")
call("mkdir", [("pathname_uaddr", pointer_arg(1)), ("pathname", ustr_quoted(1)), ("pathname_unquoted", ustr(1)),
               ("mode", uint_arg(2))], "%s, %#o", "pathname", "mode")
call("getdents", [("fd", int_arg(1)), ("dirp_uaddr", pointer_arg(2)), ("count", uint_arg(3))],
     "%d, %p, %d", "fd", "dirp_uaddr", "count", covers=("getdents", "getdents64"))
call("rmdir", [("pathname", ustr_quoted(1)), ("pathname_unquoted", ustr(1))], "%s", "pathname")
call("chdir", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1))], "%s", "path")
call("getcwd", [("buf_uaddr", pointer_arg(1)), ("size", ulong_arg(2))], "%p, %d", "buf_uaddr", "size")
call("readlink", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1)), ("buf_uaddr", pointer_arg(2)),
                  ("bufsiz", int_arg(3))], "%s, %p, %d", "path", "buf_uaddr", "bufsiz")
call("ioctl", [("fd", int_arg(1)), ("request", int_arg(2)), ("argp", ulong_arg(3))], "%d, %d, %p",
     "fd", "request", "argp")
