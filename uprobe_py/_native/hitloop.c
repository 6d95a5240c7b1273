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
            kind = UP_STOP;
            if (WIFSTOPPED(st)) {
                int want = 0;
                if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
                    want = UP_TRAP;
                else if ((st >> 16) == 7)                      /* PTRACE_EVENT_SECCOMP */
                    want = UP_SECCOMP;
                else if (WSTOPSIG(st) == (SIGTRAP | 0x80) && (st >> 16) == 0)
                    want = UP_SYSCALL;
                if (want && ptrace(PTRACE_GETREGS, r, 0, regs) == 0)
                    kind = want;
            }
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
    if (WIFSTOPPED(st)) {
        int want = 0;
        if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
            want = UP_TRAP;
        else if ((st >> 16) == 7)
            want = UP_SECCOMP;
        else if (WSTOPSIG(st) == (SIGTRAP | 0x80) && (st >> 16) == 0)
            want = UP_SYSCALL;
        if (want && ptrace(PTRACE_GETREGS, r, 0, regs) == 0)
            return want;
    }
    return UP_STOP;
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
