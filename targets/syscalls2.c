/* Known raw system calls for the second set of decoded syscall aliases (futex, clone flags,
   signals, pipes, epoll, sockopts, rlimits, ...); see tests/test_syscall_decode.py. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    static int word;
    int fds[2];
    syscall(SYS_getpid);                                            /* marker: start */
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    struct timespec ts = { 0, 5000 };
    syscall(SYS_futex, &word, FUTEX_WAIT, 1, &ts, 0, 0);           /* EAGAIN: word is 0 */
    struct { void *h; unsigned long flags; void *restorer; unsigned long mask; } act =
        { (void *)1, 0, 0, 0 };
    syscall(SYS_rt_sigaction, SIGUSR1, &act, 0, 8);
    unsigned long set = (1UL << (SIGINT - 1)) | (1UL << (SIGTERM - 1));
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, 0, 8);
    syscall(SYS_pipe2, fds, O_CLOEXEC | O_NONBLOCK);
    syscall(SYS_fcntl, fds[0], F_GETFL, 0);
    long ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fds[0], &ev);
    syscall(SYS_epoll_wait, ep, &ev, 1, 0);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, 0);
    struct rlimit rl = { 1024, 4096 };
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, 0);
    syscall(SYS_madvise, 0, 0, MADV_DONTNEED);
    syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent/y", AT_REMOVEDIR);
    syscall(SYS_renameat2, AT_FDCWD, "/nonexistent/a", AT_FDCWD, "/nonexistent/b", 1);
    long s = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    syscall(SYS_umask, 022);
    syscall(SYS_exit_group, 0);
    return 0;
}
