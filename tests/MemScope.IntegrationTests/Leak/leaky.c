/* Test and benchmark workload for `memscope leak --trace` (built by the tests and bench/leak with gcc).
 *
 *   leaky leak COUNT SIZE TIDY   waits for SIGUSR1, then calls leaky_function(SIZE) COUNT times (never freed) and
 *                                tidy_function(SIZE) TIDY times per leak (malloc + free), prints "leaked BYTES",
 *                                and waits to be killed.
 *   leaky bench SECONDS [SIZE] [wait]
 *                                malloc+free pairs through tidy_function for SECONDS; prints "allocs_per_sec N".
 *                                With "wait": prints "ready PID" and starts on SIGUSR1 (so a tracer can attach first).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go = 0;
static void on_usr1(int sig) { (void)sig; go = 1; }

void *volatile keep; /* so the compiler cannot drop the allocations */

__attribute__((noinline)) void *leaky_function(size_t size)
{
    void *p = malloc(size);
    memset(p, 0x5a, size);
    keep = p;
    return p; /* the caller drops it: leaked */
}

__attribute__((noinline)) void tidy_function(size_t size)
{
    void *p = malloc(size);
    memset(p, 0x33, size);
    keep = p;
    free(p);
}

__attribute__((noinline)) void leak_loop(long count, size_t size, long tidy)
{
    for (long i = 0; i < count; i++) {
        leaky_function(size);
        for (long j = 0; j < tidy; j++) tidy_function(size);
        if (i % 50 == 49) usleep(1000);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) long bench_loop(double seconds, size_t size)
{
    long n = 0;
    double end = now() + seconds;
    while (1) {
        for (int k = 0; k < 1000; k++) tidy_function(size);
        n += 1000;
        if (now() >= end) break;
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "leak") == 0) {
        long count = atol(argv[2]), tidy = atol(argv[4]);
        size_t size = (size_t)atol(argv[3]);
        signal(SIGUSR1, on_usr1);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        while (!go) usleep(10000);
        leak_loop(count, size, tidy);
        printf("leaked %ld\n", (long)(count * (long)size));
        fflush(stdout);
        for (;;) pause();
    }
    if (argc >= 3 && strcmp(argv[1], "bench") == 0) {
        double seconds = atof(argv[2]);
        size_t size = argc >= 4 ? (size_t)atol(argv[3]) : 64;
        if (argc >= 5 && strcmp(argv[4], "wait") == 0) {
            signal(SIGUSR1, on_usr1);
            printf("ready %d\n", (int)getpid());
            fflush(stdout);
            while (!go) usleep(10000);
        }
        double t0 = now();
        long n = bench_loop(seconds, size);
        printf("allocs_per_sec %.0f\n", n / (now() - t0));
        return 0;
    }
    fprintf(stderr, "usage: %s leak COUNT SIZE TIDY | bench SECONDS [SIZE]\n", argv[0]);
    return 2;
}
