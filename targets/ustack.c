/* Backtraces (tests/test_builtins_ustack.py): main -> a -> b -> c, and a qsort
 * comparator, so that a frame lies in libc. noinline keeps every frame at -O2. */
#include <stdio.h>
#include <stdlib.h>

volatile int sink;

__attribute__((noinline)) int c(int x) { sink = x; asm volatile("" ::: "memory"); return x + 1; }
__attribute__((noinline)) int b(int x) { int r = c(x + 1); asm volatile("" ::: "memory"); return r * 2; }
__attribute__((noinline)) int a(int x) { int r = b(x + 1); asm volatile("" ::: "memory"); return r + 3; }

__attribute__((noinline)) int cmp(const void *p, const void *q)
{
    int x = *(const int *)p, y = *(const int *)q;
    asm volatile("" ::: "memory");
    return (x > y) - (x < y);
}

int main(void)
{
    int v[2] = { 2, 1 };
    int r = a(1);
    qsort(v, 2, sizeof v[0], cmp);
    printf("r=%d v=%d,%d\n", r, v[0], v[1]);
    return 0;
}
