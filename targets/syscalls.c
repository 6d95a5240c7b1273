/* Makes known system calls with known arguments, for the syscall alias decoder tests.
   Raw syscall(2) calls, so libc cannot substitute openat for open etc. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    syscall(SYS_getpid);                                            /* marker: start */
    long fd = syscall(SYS_open, "/nonexistent/x", O_RDONLY | O_CLOEXEC, 0);
    fd = syscall(SYS_openat, AT_FDCWD, "/tmp/uprobe_py_sc.txt", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    syscall(SYS_write, fd, "hi\n", 3);
    syscall(SYS_close, fd);
    syscall(SYS_unlink, "/tmp/uprobe_py_sc.txt");
    void *p = (void *)syscall(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mprotect, p, 4096, PROT_READ);
    syscall(SYS_munmap, p, 8192);
    long s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(1) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    syscall(SYS_connect, s, &sa, sizeof sa);
    syscall(SYS_close, s);
    struct timespec ts = { 0, 1000 };
    syscall(SYS_nanosleep, &ts, 0);
    syscall(SYS_kill, 0, 0);
    syscall(SYS_access, "/", R_OK | X_OK);
    syscall(SYS_lseek, 0, (long)-5, SEEK_END);
    syscall(SYS_exit_group, 3);
    return 0;
}
