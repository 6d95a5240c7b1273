/* Threads, children and new programs for the ptrace engine's whole-process tests.
 *   family threads T N   T threads each call work() N times; prints the total
 *   family fork C N      C forked children (and the parent) each call work() N times
 *   family vfork N       a vfork child execs `family plain N`; the parent calls work() N times
 *   family exec N        calls work() N times, then execs `family plain N`
 *   family plain N       calls work() N times
 *   family server        prints its pid, then calls work() every millisecond until SIGTERM
 * Every mode prints one result line per process and exits with status 0 (server: 0 on SIGTERM). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop;

__attribute__((noinline)) long work(long i)
{
    pthread_mutex_lock(&lock);
    total += i;
    pthread_mutex_unlock(&lock);
    return i;
}

static long n_per;

static void *runner(void *arg)
{
    (void)arg;
    for (long i = 0; i < n_per; i++)
        work(1);
    return NULL;
}

static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    if (!strcmp(mode, "threads")) {
        int t = atoi(argv[2]);
        n_per = atol(argv[3]);
        pthread_t th[64];
        for (int i = 0; i < t; i++)
            pthread_create(&th[i], NULL, runner, NULL);
        for (int i = 0; i < t; i++)
            pthread_join(th[i], NULL);
        printf("threads total=%ld\n", total);
    } else if (!strcmp(mode, "fork")) {
        int c = atoi(argv[2]);
        n_per = atol(argv[3]);
        for (int i = 0; i < c; i++) {
            pid_t p = fork();
            if (p == 0) {
                runner(NULL);
                printf("child total=%ld\n", total);
                fflush(stdout);
                _exit(0);
            }
            waitpid(p, NULL, 0);
        }
        runner(NULL);
        printf("parent total=%ld\n", total);
    } else if (!strcmp(mode, "vfork") || !strcmp(mode, "exec")) {
        n_per = atol(argv[2]);
        if (!strcmp(mode, "vfork")) {
            pid_t p = vfork();
            if (p == 0) {
                execl("/proc/self/exe", argv[0], "plain", argv[2], (char *)NULL);
                _exit(127);
            }
            waitpid(p, NULL, 0);
            runner(NULL);
            printf("vfork parent total=%ld\n", total);
        } else {
            runner(NULL);
            printf("before exec total=%ld\n", total);
            fflush(stdout);
            execl("/proc/self/exe", argv[0], "plain", argv[2], (char *)NULL);
            return 127;
        }
    } else if (!strcmp(mode, "server")) {
        signal(SIGTERM, on_term);
        printf("%d\n", (int)getpid());
        fflush(stdout);
        long i = 0;
        while (!stop) {
            work(1);
            i++;
            usleep(1000);
        }
        printf("server stopped total=%ld\n", total);
    } else {
        n_per = atol(argv[2]);
        runner(NULL);
        printf("plain total=%ld\n", total);
    }
    return 0;
}
