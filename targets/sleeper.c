/* Calls nap() with known durations, for examples/latency.stp: `sleeper`
 * 4 calls of 3 ms (log2 bucket 2048..4095 us) and 2 calls of 24 ms (bucket 16384..32767 us),
 * each a single nanosleep, so the probe's own cost is far from a bucket edge. */
#include <stdio.h>
#include <time.h>

__attribute__((noinline)) void nap(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

int main(void)
{
    static const long plan[] = { 3000, 24000, 3000, 3000, 24000, 3000 };
    for (unsigned i = 0; i < sizeof plan / sizeof plan[0]; i++)
        nap(plan[i]);
    printf("sleeper: %u naps\n", (unsigned)(sizeof plan / sizeof plan[0]));
    return 0;
}
