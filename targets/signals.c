/* Signals under tracing: the program's own signals must behave exactly as untraced.
 *   signals handler N   raises SIGUSR1 N times, a handler counts them (and calls work())
 *   signals segv        calls work(), then writes through a null pointer: dies of SIGSEGV
 *   signals stopcont N  a child stops and continues the parent N times while it calls work()
 *   signals trap        raises SIGTRAP with a handler installed (the program's own SIGTRAP) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t seen;
static volatile long total;

__attribute__((noinline)) long work(long i) { total += i; return total; }

static void on_usr1(int sig) { (void)sig; seen++; work(1); }
static void on_trap(int sig) { (void)sig; seen += 100; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "handler";
    long n = argc > 2 ? atol(argv[2]) : 10;
    if (!strcmp(mode, "handler")) {
        signal(SIGUSR1, on_usr1);
        for (long i = 0; i < n; i++)
            raise(SIGUSR1);
        printf("handled=%d total=%ld\n", (int)seen, total);
    } else if (!strcmp(mode, "segv")) {
        work(1);
        fflush(stdout);
        volatile int *p = NULL;
        *p = 1;
    } else if (!strcmp(mode, "stopcont")) {
        pid_t parent = getpid();
        pid_t c = fork();
        if (c == 0) {
            for (long i = 0; i < n; i++) {
                kill(parent, SIGSTOP);
                usleep(2000);
                kill(parent, SIGCONT);
                usleep(2000);
            }
            _exit(0);
        }
        int st = 0;
        while (waitpid(c, &st, WNOHANG) == 0)
            work(1);
        printf("stopcont child=%d\n", WEXITSTATUS(st));
    } else if (!strcmp(mode, "trap")) {
        signal(SIGTRAP, on_trap);
        work(1);
        raise(SIGTRAP);
        printf("trap seen=%d\n", (int)seen);
    }
    return 0;
}
