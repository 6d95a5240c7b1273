/* Guru-mode writes to target variables (`$var = v` with -g): each function's result
   changes when a probe rewrites its parameters, a global, a struct field through a
   pointer, an array element or a bitfield. Prints what it computes. */
#include <stdio.h>

struct flags {
    unsigned a : 3;
    signed b : 5;
    unsigned c : 1;
};

struct point {
    int x, y;
    short s;
    char ch;
    unsigned char uc;
    long long big;
    struct flags f;
    int arr[4];
};

int g_counter = 10;
struct point g_pt = {1, 2, 3, 'a', 200, 1LL << 40, {1, -2, 1}, {1, 2, 3, 4}};

__attribute__((noinline)) int scale(int v, int factor)
{
    return v * factor;
}

__attribute__((noinline)) int move(struct point *p, int dx)
{
    p->x += dx;
    return p->x;
}

__attribute__((noinline)) int sum_arr(const int *a, int n)
{
    int i, s = 0;
    for (i = 0; i < n; i++)
        s += a[i];
    return s;
}

__attribute__((noinline)) int narrow(unsigned char c, short h, long long w)
{
    return c + h + (int)(w >> 32);
}

__attribute__((noinline)) int show_flags(struct flags *f)
{
    return printf("flags a=%u b=%d c=%u\n", f->a, f->b, f->c);
}

static __attribute__((noinline)) int konst(int k, int x)
{
    return k * x + g_counter;
}

__attribute__((noinline)) int bump(void)
{
    return ++g_counter;
}

int main(void)
{
    struct point local = {5, 6, 7, 'b', 1, 2, {2, 3, 0}, {10, 20, 30, 40}};
    int r;
    printf("scale=%d\n", scale(6, 7));
    r = move(&local, 3);
    printf("move=%d x=%d\n", r, local.x);
    printf("sum=%d\n", sum_arr(local.arr, 4));
    printf("narrow=%d\n", narrow(250, -3, 5LL << 32));
    show_flags(&g_pt.f);
    printf("konst=%d\n", konst(3, 4));
    r = bump();
    printf("bump=%d counter=%d\n", r, g_counter);
    printf("pt x=%d ch=%c uc=%u big=%lld\n", g_pt.x, g_pt.ch, g_pt.uc, g_pt.big);
    return 0;
}
