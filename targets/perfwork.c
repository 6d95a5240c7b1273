/* A target with known perf-event behaviour for tests/test_perf.py:
 *   perfwork CMD ARG [CMD ARG]...   runs each in order:
 *     faults N   map N fresh anonymous pages and write one byte to each: N page faults
 *                whose user IP is in faults() (plus the program's own start-up faults)
 *     spin MS    burn CPU in spin() for MS milliseconds of wall time
 *     sleep MS   sleep (e.g. at the end, so the process is still there when its last
 *                samples are read and its symbols looked up)
 *     cputime 0  print "cpu_ms=T" (the CPU time the process has used so far, in ms) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static volatile unsigned long sink;

__attribute__((noinline)) unsigned long spin(double ms)
{
    double end = now_ms() + ms;
    unsigned long x = 0;
    while (now_ms() < end)
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i * 2654435761u;
    sink = x;
    return x;
}

__attribute__((noinline)) long faults(long n)
{
    long psz = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)n * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    for (long i = 0; i < n; i++)
        p[i * psz] = 1;
    munmap(p, (size_t)n * psz);
    return n;
}

int main(int argc, char **argv)
{
    /* the commands run in order (see the top of the file) */
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: perfwork {sleep MS | faults N | spin MS | cputime 0}...\n");
        return 2;
    }
    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "sleep") == 0)
            usleep(atoi(argv[a + 1]) * 1000);
        else if (strcmp(argv[a], "faults") == 0) {
            if (faults(atol(argv[a + 1])) < 0)
                return 1;
        } else if (strcmp(argv[a], "spin") == 0)
            spin(atof(argv[a + 1]));
        else if (strcmp(argv[a], "cputime") == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            printf("cpu_ms=%.1f\n", ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
            fflush(stdout);
        } else {
            fprintf(stderr, "perfwork: unknown command %s\n", argv[a]);
            return 2;
        }
    }
    return 0;
}
