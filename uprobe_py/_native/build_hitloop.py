"""cffi build script for uprobe_py._native._hitloop (the ptrace per-hit path, hitloop.c)."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
ffi.cdef("""
struct user_regs_struct {
    unsigned long long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi,
                       orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
#define UP_TIMEOUT 0
#define UP_TRAP 1
#define UP_STOP 2
#define UP_INTR 3
#define UP_NOCHILD 4
#define UP_SECCOMP 5
#define UP_SYSCALL 6
#define UP_RESUME_FAILED 7
int up_wait(int pid, long long timeout_ns, struct user_regs_struct *regs, int *status, int *who);
int up_wait_blocking(struct user_regs_struct *regs, int *status, int *who);
int up_resume(int pid, struct user_regs_struct *regs, int sig);
int up_getregs(int pid, struct user_regs_struct *regs);
int up_setregs(int pid, struct user_regs_struct *regs);
int up_cont(int pid, int sig);
int up_restart(int pid, int request, int sig);
extern unsigned long long up_sysargs[6];
int up_next(int tid, int request, int setregs, struct user_regs_struct *regs, int *status, int *who);
""")
with open(os.path.join(HERE, "hitloop.c")) as f:
    ffi.set_source("uprobe_py._native._hitloop", "#include <sys/user.h>\n" + f.read(),
                   extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffi.compile(verbose=True)
