/* Leaks a known number of bytes from two known call sites and frees everything else,
   for examples/memleak.stp: `leaky [MS]` (MS: milliseconds to sleep before exiting, default 0)
     leak_small(): 5 x malloc(100)           -> 500 bytes in 5 allocations, never freed
     leak_big():   2 x calloc(16, 64)        -> 2048 bytes in 2 allocations, never freed
     churn():      malloc / realloc / free   -> nothing outstanding
   Compiled with -O0 so each function keeps its own frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *keep[16];
static int nkeep;

__attribute__((noinline)) void leak_small(void)
{
    for (int i = 0; i < 5; i++)
        keep[nkeep++] = malloc(100);
}

__attribute__((noinline)) void leak_big(void)
{
    for (int i = 0; i < 2; i++)
        keep[nkeep++] = calloc(16, 64);
}

__attribute__((noinline)) void churn(void)
{
    for (int i = 0; i < 10; i++) {
        char *p = malloc(32 + i);
        memset(p, 'x', 32);
        p = realloc(p, 4096 + i);
        free(p);
    }
    free(calloc(3, 300));
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 0;
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };
    churn();
    leak_small();
    leak_big();
    churn();
    printf("leaky: %d blocks kept\n", nkeep);
    fflush(stdout);
    nanosleep(&ts, NULL);
    return 0;
}
