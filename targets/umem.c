/* User-memory built-ins (tests/test_builtins_umem.py): probe_me() gets pointers to
 * known data in its argument registers (rdi rsi rdx rcx r8 r9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ints {
    signed char c;        /* -5 */
    unsigned char uc;     /* 250 */
    short s;              /* -1234 */
    unsigned short us;    /* 60000 */
    int i;                /* -123456 */
    unsigned int ui;      /* 4000000000 */
    long l;               /* -1234567890123 */
    unsigned long ul;     /* 0xfedcba9876543210 */
};

struct ints g_ints = { -5, 250, -1234, 60000, -123456, 4000000000u, -1234567890123L,
                       0xfedcba9876543210UL };
const char g_str[] = "hello, \"world\"\n\tend";
const unsigned short g_u16[] = { 'h', 0xe9, 0x20ac, 0xd83d, 0xde00, '!', 0 };
/* then an invalid character at g_u32 + 28 */
const unsigned int g_u32[] = { 'h', 0xe9, 0x20ac, 0x1f600, '!', 0, 'a', 0x110000, 0 };
const char g_buf[8] = { 'a', 0, 'b', '\n', (char)0xff, 'c', 'd', 'e' };
char *g_long;

__attribute__((noinline)) int probe_me(const char *s, const struct ints *in,
                                      const unsigned short *u16, const unsigned int *u32,
                                      const char *buf, const char *lng)
{
    asm volatile("" ::: "memory");
    return (int)strlen(s) + in->c + (int)u16[0] + (int)u32[0] + buf[0] + lng[0];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atoi(argv[1]) : 600;
    g_long = malloc(n + 1);
    for (size_t k = 0; k < n; k++)
        g_long[k] = 'a' + k % 26;
    g_long[n] = 0;
    int r = probe_me(g_str, &g_ints, g_u16, g_u32, g_buf, g_long);
    printf("done %d\n", r);
    return 0;
}
