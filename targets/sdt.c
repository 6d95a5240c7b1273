/* SDT markers (<sys/sdt.h>) for tests/test_sdt.py: markers with 0 to 8 arguments of
 * several sizes and signs, a string, a global (RIP-relative), an array element
 * (base+index*scale), constants; built with targets/sdt_guarded.c, whose marker has a
 * semaphore (a marker's semaphore is chosen per translation unit by _SDT_HAS_SEMAPHORES).
 * Usage: sdt N [ignore-term]  -- runs the loop N times and prints what each marker is passed;
 * with ignore-term it ignores SIGTERM (a test then sees it finish after the tracer left). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

extern unsigned short app_guarded_semaphore;
void guarded(int i);

long counter = 1000;
int table[8] = {10, 11, 12, 13, 14, 15, 16, 17};
static const char *names[] = {"alpha", "beta", "gamma"};

__attribute__((noinline)) static void step(int i, const char *name, long big)
{
    signed char sc = (signed char)(-i - 1);
    unsigned char uc = (unsigned char)(200 + i);
    short sh = (short)(-300 * (i + 1));
    unsigned int ui = 4000000000u + (unsigned)i;
    long long ll = -123456789012LL * (i + 1);

    DTRACE_PROBE(app, zero);
    DTRACE_PROBE1(app, one, i);
    DTRACE_PROBE2(app, two, name, big);
    DTRACE_PROBE3(app, three, sc, uc, sh);
    DTRACE_PROBE4(app, four, ui, ll, counter, table[i % 8]);
    DTRACE_PROBE5(other, five, 1, 2, 3, 4, 5);
    DTRACE_PROBE6(other, six, i, i + 1, i + 2, i + 3, i + 4, i + 5);
    STAP_PROBE8(other, eight, i, -1, name, big, sc, uc, 7, &counter);
    guarded(i);
    printf("step %d %s %ld sc=%d uc=%u sh=%d ui=%u ll=%lld counter=%ld t=%d sem=%u\n", i, name, big, sc, uc,
           sh, ui, ll, counter, table[i % 8], (unsigned)app_guarded_semaphore);
    counter += i;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (argc > 2 && strcmp(argv[2], "ignore-term") == 0)
        signal(SIGTERM, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n; i++)
        step(i, names[i % 3], 1L << (40 + i));
    DTRACE_PROBE1(app, done, n);
    return 0;
}
