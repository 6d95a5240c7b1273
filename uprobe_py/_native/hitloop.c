/* The ptrace engine's per-hit system calls, in C (uprobe_py/ptrace/hitwait.py wraps them).
 *
 * up_wait: the next stop of a tracee, without a signal handler or a Python-level wake-up
 * per hit: SIGCHLD is blocked for the call and waited for with sigtimedwait, then
 * waitpid(WNOHANG) reads the stop. A SIGTRAP stop comes back with its registers already
 * read. It returns early when another signal (Ctrl-C, SIGTERM) is delivered to the
 * tracer (its handler has run: EINTR), or at the deadline, so the session stays in charge.
 * up_resume: registers written back and the tracee continued: the second half of a hit.
 * A seccomp stop or a syscall stop (PTRACE_O_TRACESYSGOOD) also comes back with its registers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#define UP_TIMEOUT 0
#define UP_TRAP 1
#define UP_STOP 2
#define UP_INTR 3
#define UP_NOCHILD 4
#define UP_SECCOMP 5     /* PTRACE_EVENT_SECCOMP stop: regs filled */
#define UP_SYSCALL 6     /* syscall-entry/exit stop (PTRACE_O_TRACESYSGOOD): regs filled */
#define UP_RESUME_FAILED 7  /* up_next: the restart failed (*who = the tid, *status = -errno) */

/* a system-call stop's six arguments (rdi rsi rdx r10 r8 r9), contiguous: Python reads
   them as one tuple with struct.unpack_from instead of six field reads */
unsigned long long up_sysargs[6];

static int sysargs(int want, const struct user_regs_struct *regs)
{
    if (want == UP_SECCOMP || want == UP_SYSCALL) {
        up_sysargs[0] = regs->rdi;
        up_sysargs[1] = regs->rsi;
        up_sysargs[2] = regs->rdx;
        up_sysargs[3] = regs->r10;
        up_sysargs[4] = regs->r8;
        up_sysargs[5] = regs->r9;
    }
    return want;
}

/* what a waitpid status is: a SIGTRAP, seccomp or syscall stop comes back with r's
   registers read (UP_TRAP / UP_SECCOMP / UP_SYSCALL), anything else is UP_STOP */
static int stop_kind(pid_t r, int st, struct user_regs_struct *regs)
{
    int want = 0;
    if (!WIFSTOPPED(st))
        return UP_STOP;
    if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
        want = UP_TRAP;
    else if ((st >> 16) == 7)                          /* PTRACE_EVENT_SECCOMP */
        want = UP_SECCOMP;
    else if (WSTOPSIG(st) == (SIGTRAP | 0x80) && (st >> 16) == 0)
        want = UP_SYSCALL;
    if (want && ptrace(PTRACE_GETREGS, r, 0, regs) == 0)
        return sysargs(want, regs);
    return UP_STOP;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* pid: the tracee (or -1: any); timeout_ns: < 0 waits for ever, 0 does not wait.
   Fills *status for UP_TRAP and UP_STOP, *who with the pid, regs for UP_TRAP. */
int up_wait(int pid, long long timeout_ns, struct user_regs_struct *regs, int *status, int *who)
{
    sigset_t chld, old;
    int kind;
    int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &old);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG | __WALL);
        if (r > 0) {
            *status = st;
            *who = r;
            kind = stop_kind(r, st, regs);
            break;
        }
        if (r < 0) {
            kind = errno == EINTR ? UP_INTR : UP_NOCHILD;
            break;
        }
        if (timeout_ns == 0) {
            kind = UP_TIMEOUT;
            break;
        }
        struct timespec ts, *tp = NULL;
        if (timeout_ns > 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0) {
                kind = UP_TIMEOUT;
                break;
            }
            ts.tv_sec = left / 1000000000LL;
            ts.tv_nsec = left % 1000000000LL;
            tp = &ts;
        }
        if (sigtimedwait(&chld, NULL, tp) < 0) {
            if (errno == EAGAIN) {
                kind = UP_TIMEOUT;
                break;
            }
            if (errno == EINTR) {
                kind = UP_INTR;
                break;
            }
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return kind;
}

/* The same without a deadline: one blocking waitpid (the caller has SIGCHLD at SIG_DFL,
   so no handler runs per stop); a handled signal (Ctrl-C) interrupts it: UP_INTR. */
int up_wait_blocking(struct user_regs_struct *regs, int *status, int *who)
{
    int st = 0;
    pid_t r = waitpid(-1, &st, __WALL);
    if (r < 0)
        return errno == EINTR ? UP_INTR : UP_NOCHILD;
    *status = st;
    *who = r;
    return stop_kind(r, st, regs);
}

/* The end of one stop and the wait for the next in one call (the blocking loop's per-hit
   path saves a crossing into C): when tid > 0, tid's registers are written back (setregs)
   and it is restarted with `request` (PTRACE_CONT, PTRACE_SYSCALL...); then as
   up_wait_blocking. A failed restart returns UP_RESUME_FAILED at once. */
int up_next(int tid, int request, int setregs, struct user_regs_struct *regs, int *status, int *who)
{
    if (tid > 0) {
        if ((setregs && ptrace(PTRACE_SETREGS, tid, 0, regs) == -1)
            || ptrace(request, tid, 0, (void *)0) == -1) {
            *who = tid;
            *status = -errno;
            return UP_RESUME_FAILED;
        }
    }
    return up_wait_blocking(regs, status, who);
}

/* 0, or -errno of the failing ptrace call */
int up_resume(int pid, struct user_regs_struct *regs, int sig)
{
    if (ptrace(PTRACE_SETREGS, pid, 0, regs) == -1)
        return -errno;
    if (ptrace(PTRACE_CONT, pid, 0, (void *)(intptr_t)sig) == -1)
        return -errno;
    return 0;
}

int up_getregs(int pid, struct user_regs_struct *regs)
{
    return ptrace(PTRACE_GETREGS, pid, 0, regs) == -1 ? -errno : 0;
}

int up_setregs(int pid, struct user_regs_struct *regs)
{
    return ptrace(PTRACE_SETREGS, pid, 0, regs) == -1 ? -errno : 0;
}

/* any resume request (PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SINGLESTEP...): 0 or -errno */
int up_restart(int pid, int request, int sig)
{
    return ptrace(request, pid, 0, (void *)(intptr_t)sig) == -1 ? -errno : 0;
}

int up_cont(int pid, int sig)
{
    return ptrace(PTRACE_CONT, pid, 0, (void *)(intptr_t)sig) == -1 ? -errno : 0;
}
