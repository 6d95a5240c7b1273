/* dlopen()s the library named by argv[1] after start-up, calls its plug_fn() N times
 * (argv[2]) and dlclose()s it, ROUNDS times (argv[3], default 1); prints the sum.
 * For library probes armed at dlopen. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]), sum = 0;
    int rounds = argc > 3 ? atoi(argv[3]) : 1;
    for (int r = 0; r < rounds; r++) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        int (*fn)(int) = (int (*)(int))dlsym(h, "plug_fn");
        for (long i = 0; i < n; i++)
            sum += fn((int)i);
        dlclose(h);
    }
    printf("sum=%ld\n", sum);
    return 0;
}
