/* For bench/syscall_bench.py: `getppid_loop N [M]` makes N getppid() and then M getpid()
 * system calls (raw syscall(2), so libc can neither cache nor skip them), prints one line. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0, m = argc > 2 ? atol(argv[2]) : 0, sum = 0;
    for (long i = 0; i < n; i++)
        sum += syscall(SYS_getppid) > 0;
    for (long i = 0; i < m; i++)
        sum += syscall(SYS_getpid) > 0;
    printf("getppid=%ld getpid=%ld ok=%ld\n", n, m, sum);
    return 0;
}
