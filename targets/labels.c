/* C labels for `.label("NAME")` probes: goto labels in functions, a label inside a
   loop, and a static inline function with a label (inlined at -O2).  Prints what it
   computes; the tests check exact hit counts and `$var` values at the labels. */
#include <stdio.h>
#include <stdlib.h>

static volatile int sink;

int find_first(const int *a, int n, int want)
{
    int i;
    for (i = 0; i < n; i++) {
        if (a[i] == want)
            goto found;
    }
    return -1;
found:
    sink = i;
    return i;
}

int sum_loop(int n)
{
    int total = 0, k = 0;
again:
    total += k;
    k++;
    if (k < n)
        goto again;
    return total;
}

static inline int clamp_inl(int v, int lo, int hi)
{
    if (v < lo) {
        v = lo;
        goto out;
    }
    if (v > hi)
        v = hi;
out:
    sink = v;
    return v;
}

int checked_div(int a, int b)
{
    int r;
    if (b == 0)
        goto fail;
    r = a / b;
    sink = r;
    return r;
fail:
    sink = -1;
    fputs("div by zero\n", stderr);
    return 0;
}

int main(int argc, char **argv)
{
    int arr[6] = {4, 8, 15, 16, 23, 42};
    int n = argc > 1 ? atoi(argv[1]) : 5;
    int s = 0, j;
    s += find_first(arr, 6, 15);
    s += find_first(arr, 6, 99);
    s += sum_loop(n);
    for (j = -2; j < 14; j += 3)
        s += clamp_inl(j, 0, 9);
    s += checked_div(84, 2);
    s += checked_div(1, 0);
    printf("s=%d\n", s);
    return 0;
}
