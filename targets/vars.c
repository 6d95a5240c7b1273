/* Target variables for `$var` tests: every C type and location kind the probes read.
 * Deterministic; values are fixed so the tests know what the probes must print. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum color { RED, GREEN = 5, BLUE };
typedef unsigned int uint_t;

struct inner {
    short s;
    unsigned char uc;
};

struct rec {
    int i;
    unsigned u;
    long l;
    char c;
    bool b;
    enum color col;
    unsigned int bf1 : 3;
    int bf2 : 5;
    char name[8];
    const char *str;
    struct inner in;
    struct inner arr[2];
    union {
        int ui;
        float uf;
    };
    struct rec *next;
    double d;
};

int g_counter = 7;
static long g_static = -3;
__thread int tls_var = 11;
struct rec g_rec;
const char *g_msg = "global message";
int g_arr[4] = {10, 20, 30, 40};

__attribute__((noinline)) int use_rec(struct rec *r, int k, char ch, unsigned char uc, short sh,
                                      unsigned short us, long long ll, unsigned long long ull, bool flag,
                                      enum color col, uint_t ut, const char *s, double dv)
{
    int local = k * 2;
    long total = r->i + k + ch + uc + sh + us + (long)ll + (long)ull + flag + col + ut + (long)strlen(s);
    total += (long)dv + local;
    g_counter += (int)(total & 1);
    return (int)total;
}

__attribute__((noinline)) long sum_arr(const int *a, int n)
{
    long s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}

__attribute__((noinline)) struct inner get_inner(int v)
{
    struct inner x = { (short)v, (unsigned char)(v + 1) };
    return x;
}

__attribute__((noinline)) const char *pick(int which)
{
    return which ? "yes" : "no";
}

int main(int argc, char **argv)
{
    struct rec second = { .i = 2, .str = "second", .d = 2.5 };
    struct rec r;
    memset(&r, 0, sizeof r);
    r.i = -5;
    r.u = 4000000000u;
    r.l = -1234567890123L;
    r.c = 'Z';
    r.b = true;
    r.col = BLUE;
    r.bf1 = 5;
    r.bf2 = -3;
    strcpy(r.name, "abc");
    r.str = "hello";
    r.in.s = -7;
    r.in.uc = 200;
    r.arr[0].s = 1;
    r.arr[1].s = 2;
    r.ui = 42;
    r.next = &second;
    r.d = 1.5;
    g_rec = r;
    int n = argc + 3;
    int res = use_rec(&r, n, 'q', 250, -300, 60000, -9000000000LL, 18000000000000000000ULL, true, GREEN,
                      123u, "str arg", 3.25);
    long s = sum_arr(g_arr, 4);
    struct inner in = get_inner(9);
    const char *p = pick(argc);
    printf("res=%d s=%ld in=%d,%d p=%s tls=%d static=%ld\n", res, s, in.s, in.uc, p, tls_var, g_static);
    return 0;
}
