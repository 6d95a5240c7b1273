/* A loop target for the ptrace engine's tests and benchmark: `loop N [ignore-term]`
 * calls tick() N times and tock() N/2 times, prints the counts and a checksum, and
 * exits with status N % 7 (so the tests can check it is unchanged by tracing).
 * With `ignore-term` it ignores SIGTERM, so a test can see it finish its work after
 * the tracer has detached and the session ended it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile long acc;

__attribute__((noinline)) long tick(long i)
{
    acc += i;
    return acc;
}

__attribute__((noinline)) long tock(long i)
{
    acc ^= i;
    return acc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    if (argc > 2 && strcmp(argv[2], "ignore-term") == 0)
        signal(SIGTERM, SIG_IGN);
    long ticks = 0, tocks = 0;
    for (long i = 0; i < n; i++) {
        tick(i);
        ticks++;
        if (i % 2 == 0) {
            tock(i);
            tocks++;
        }
    }
    printf("ticks=%ld tocks=%ld acc=%ld\n", ticks, tocks, acc);
    return (int)(n % 7);
}
