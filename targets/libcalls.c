/* Calls into shared libraries a known number of times, for library probes:
 * `libcalls N` calls getppid() N times and strlen() through a volatile pointer N times,
 * prints one line and exits with status N % 5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10, sum = 0;
    size_t (*volatile len)(const char *) = strlen;
    for (long i = 0; i < n; i++) {
        sum += getppid() > 0;
        sum += (long)len("abc");
    }
    printf("n=%ld sum=%ld\n", n, sum);
    return (int)(n % 5);
}
