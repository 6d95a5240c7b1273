/* A small, fixed call tree for examples/calls.stp (compile with -O0):
 *   main -> setup
 *        -> run -> step -> leaf        (twice)
 *               -> fact(3) -> fact(2) -> fact(1)
 *        -> teardown
 * Prints one line and exits 0. */
#include <stdio.h>

static volatile int sink;

__attribute__((noinline)) void leaf(int i) { sink += i; }
__attribute__((noinline)) void step(int i) { leaf(i); }
__attribute__((noinline)) long fact(long n) { return n <= 1 ? 1 : n * fact(n - 1); }
__attribute__((noinline)) void setup(void) { sink = 1; }
__attribute__((noinline)) void teardown(void) { sink = 0; }

__attribute__((noinline)) long run(void)
{
    step(1);
    step(2);
    return fact(3);
}

int main(void)
{
    setup();
    long r = run();
    teardown();
    printf("calltree: %ld\n", r);
    return 0;
}
