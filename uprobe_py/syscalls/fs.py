"""File-system calls: open/read/write/stat/... (stap's sysc_*.stp variable names and argstr formats)."""
from __future__ import annotations

from . import fmt as F
from .table import NAME_TO_NR
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

# --- more file calls ---------------------------------------------------------------------------
from . import flags as X  # noqa: E402
from .decode import by_call, const, with_mem  # noqa: E402

call("statx", [("dfd", int_arg(1)), ("dfd_str", derived(F.dfd, "dfd")), ("filename_uaddr", pointer_arg(2)),
               ("filename", ustr_quoted(2)), ("filename_unquoted", ustr(2)), ("flags", uint_arg(3)),
               ("flags_str", derived(F.at_flags, "flags")), ("mask", uint_arg(4)),
               ("mask_str", derived(X.statx_mask, "mask")), ("buf_uaddr", pointer_arg(5))],
     "%s, %s, %s, %s, %p", "dfd_str", "filename", "flags_str", "mask_str", "buf_uaddr")
call("fcntl", [("fd", int_arg(1)), ("cmd", int_arg(2)), ("cmd_str", derived(X.fcntl_cmd, "cmd")),
               ("arg", long_arg(3))], "%d, %s, %p", "fd", "cmd_str", "arg")


def _pipe_argstr(v):
    if v.get("fildes_uaddr") == 0:
        return "NULL"
    if v.nr == NAME_TO_NR["pipe2"]:
        return "[%d, %d], %s" % (v.get("pipe0"), v.get("pipe1"), v.get("flag_str"))
    return "[%d, %d]" % (v.get("pipe0"), v.get("pipe1"))


def _pipe_fd(i: int) -> Var:
    return Var("", LONG, lambda v: X.fildes(v.ctx, v.args[0], i))


call("pipe", [("flags", by_call({"pipe2": int_arg(2)}, const(0))),
              ("flag_str", by_call({"pipe2": derived(X.pipe2_flags, "flags")}, const(""))),
              ("fildes_uaddr", pointer_arg(1)), ("pipe0", _pipe_fd(0)), ("pipe1", _pipe_fd(1))],
     _pipe_argstr, covers=("pipe", "pipe2"), names={"pipe2": "pipe2"},
     ret_vars=[("fildes_uaddr", pointer_arg(1)), ("pipe0", _pipe_fd(0)), ("pipe1", _pipe_fd(1))])
call("unlinkat", [("dfd", int_arg(1)), ("dfd_str", derived(F.dfd, "dfd")), ("pathname", pointer_arg(2)),
                  ("pathname_str", ustr_quoted(2)), ("pathname_str_unquoted", ustr(2)), ("flag", uint_arg(3)),
                  ("flag_str", derived(F.at_flags, "flag"))], "%s, %s, %s", "dfd_str", "pathname_str", "flag_str")
call("rename", [("oldpath", ustr_quoted(1)), ("oldpath_unquoted", ustr(1)), ("newpath", ustr_quoted(2)),
                ("newpath_unquoted", ustr(2))], "%s, %s", "oldpath", "newpath")
_RENAMEAT = [("olddfd", int_arg(1)), ("olddfd_str", derived(F.dfd, "olddfd")), ("oldname", pointer_arg(2)),
             ("oldname_str", ustr_quoted(2)), ("oldname_str_unquoted", ustr(2)), ("newdfd", int_arg(3)),
             ("newdfd_str", derived(F.dfd, "newdfd")), ("newname", pointer_arg(4)),
             ("newname_str", ustr_quoted(4)), ("newname_str_unquoted", ustr(4))]
call("renameat", _RENAMEAT, "%s, %s, %s, %s", "olddfd_str", "oldname_str", "newdfd_str", "newname_str")
call("renameat2", _RENAMEAT + [("flags", uint_arg(5)), ("flags_str", derived(X.renameat2_flags, "flags"))],
     "%s, %s, %s, %s, %s", "olddfd_str", "oldname_str", "newdfd_str", "newname_str", "flags_str")
call("readlinkat", [("dfd", int_arg(1)), ("dfd_str", derived(F.dfd, "dfd")), ("path", ustr_quoted(2)),
                    ("path_unquoted", ustr(2)), ("buf_uaddr", pointer_arg(3)), ("bufsiz", int_arg(4))],
     "%s, %s, %p, %d", "dfd_str", "path", "buf_uaddr", "bufsiz")
call("sendfile", [("out_fd", int_arg(1)), ("in_fd", int_arg(2)), ("offset_uaddr", pointer_arg(3)),
                  ("count", ulong_arg(4))], "%d, %d, %p, %u", "out_fd", "in_fd", "offset_uaddr", "count")
call("truncate", [("path_uaddr", pointer_arg(1)), ("path", ustr_quoted(1)), ("path_unquoted", ustr(1)),
                  ("length", long_arg(2))], "%s, %d", "path", "length")
call("ftruncate", [("fd", int_arg(1)), ("length", long_arg(2))], "%d, %d", "fd", "length")
call("fsync", [("fd", int_arg(1))], "%d", "fd")
call("chmod", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1)), ("mode", uint_arg(2))], "%s, %#o", "path", "mode")
call("fchmod", [("fildes", int_arg(1)), ("mode", uint_arg(2))], "%d, %#o", "fildes", "mode")
call("fchmodat", [("dirfd", int_arg(1)), ("dirfd_str", derived(F.dfd, "dirfd")), ("pathname", ustr_quoted(2)),
                  ("pathname_unquoted", ustr(2)), ("mode", uint_arg(3))], "%s, %s, %#o", "dirfd_str", "pathname", "mode")
_OWNER = [("owner", int_arg(2)), ("group", int_arg(3))]        # __int32(uint_arg(n))
call("chown", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1))] + _OWNER, "%s, %d, %d", "path", "owner", "group")
call("lchown", [("path", ustr_quoted(1)), ("path_unquoted", ustr(1))] + _OWNER, "%s, %d, %d", "path", "owner", "group")
call("fchown", [("fd", int_arg(1))] + _OWNER, "%d, %d, %d", "fd", "owner", "group")
call("fchownat", [("dirfd", int_arg(1)), ("dirfd_str", derived(F.dfd, "dirfd")), ("pathname", ustr_quoted(2)),
                  ("pathname_unquoted", ustr(2)), ("owner", int_arg(3)), ("group", int_arg(4)), ("flags", int_arg(5)),
                  ("flags_str", derived(F.at_flags, "flags"))],
     "%s, %s, %d, %d, %s", "dirfd_str", "pathname", "owner", "group", "flags_str")
call("umask", [("mask", uint_arg(1))], "%#o", "mask", retfmt=3)
call("memfd_create", [("uname", ustr_quoted(1)), ("uname_unquoted", ustr(1)), ("flags", uint_arg(2)),
                      ("flags_str", derived(X.mfd_flags, "flags"))], "%s, %s", "uname", "flags_str")
_ = with_mem
