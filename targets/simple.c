/* A small C target for process-probe tests: ints, strings, structs, recursion,
 * a static helper the optimiser inlines, nested block locals.  Its output and
 * exit status are deterministic so tracing tests can check they are unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct point {
    int x;
    int y;
    const char *label;
};

int add(int a, int b)
{
    return a + b;
}

long fib(int n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

static inline int square(int v)
{
    return v * v;
}

size_t greet(const char *name, int times)
{
    size_t total = 0;
    for (int i = 0; i < times; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "hello %s", name);
        total += (size_t)n;
    }
    return total;
}

int move_point(struct point *p, int dx, int dy)
{
    p->x += dx;
    p->y += dy;
    return square(p->x) + square(p->y);
}

struct point make_point(int x, int y, const char *label)
{
    struct point p = { x, y, label };
    return p;
}

void noop(void)
{
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 3;
    struct point p = make_point(1, 2, "origin");
    long sum = 0;
    for (int i = 0; i < count; i++) {
        sum += add(i, i);
        sum += move_point(&p, 1, -1);
        noop();
    }
    sum += fib(10);
    sum += (long)greet("world", 2);
    printf("sum=%ld x=%d y=%d %s\n", sum, p.x, p.y, p.label);
    return (int)(strlen(p.label) % 7);
}
