/* threadfork's independent check of a host effect that the sequential model runs into: how
 * fast a CPU-bound function runs on the first call after other code, against the call right
 * after it — in a minimal C loop, with nothing of threadfork (or of Rust) around it.
 *
 *   first_call ROUNDS TASKS      (built: cc -O2 -mno-red-zone -o first_call first_call.c)
 *
 * Each round runs 20 ms of something else (BEFORE), then two back-to-back calls of the same
 * function: TASKS tasks of square_numbers(100) each (i*i for i in 0..100, every square stored
 * to memory and read back, as threadfork's `square` black-boxes it). The loop is the
 * instructions rustc makes of `square` — store and reload each square just below the stack
 * pointer — written out in assembly (x86-64), so that the compiler makes nothing else of it.
 * It prints, per BEFORE, the median over the rounds of
 *   pair   first call's time / second call's time
 *   split  in one call of 2*TASKS tasks: its first half's time / its second half's
 * BEFORE is: same (the function itself), float (a floating-point loop), sleep (idle).
 * The BEFOREs take turns round by round, so that they see the same moments of a noisy host. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static volatile uint64_t sink;

/* i*i for i in 0..100, each square stored just below the stack pointer and added from
 * there. Built with -mno-red-zone, so that the compiler keeps nothing of its own there. */
static uint64_t square_numbers_100(void) {
    uint64_t acc = 0, i = 0, sq;
    __asm__ volatile("1:\n\t"
                     "mov %[i], %[sq]\n\t"
                     "imul %[i], %[sq]\n\t"
                     "mov %[sq], -8(%%rsp)\n\t"
                     "add -8(%%rsp), %[acc]\n\t"
                     "inc %[i]\n\t"
                     "cmp $100, %[i]\n\t"
                     "jne 1b\n\t"
                     : [acc] "+r"(acc), [i] "+r"(i), [sq] "=&r"(sq)
                     :
                     : "cc", "memory");
    return acc;
}

/* TASKS tasks; when half_at is not NULL, the clock at the half-way task is stored there. */
__attribute__((noinline)) static uint64_t run_tasks(uint64_t tasks, uint64_t *half_at) {
    uint64_t sum = 0;
    for (uint64_t k = 0; k < tasks; k++) {
        if (half_at && k == tasks / 2) {
            *half_at = now_ns();
        }
        sum += square_numbers_100();
    }
    return sum;
}

static double float_loop_until(uint64_t end) {
    double x = 1.0;
    while (now_ns() < end) {
        for (int i = 0; i < 1000; i++) {
            x = x * 1.0000001 + 0.5;
            sink = (uint64_t)x;
        }
    }
    return x;
}

static void before(int kind) {
    uint64_t end = now_ns() + 20000000u;
    if (kind == 0) {
        while (now_ns() < end) {
            sink = run_tasks(1000, NULL);
        }
    } else if (kind == 1) {
        float_loop_until(end);
    } else {
        struct timespec t = {0, 20000000};
        nanosleep(&t, NULL);
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 40;
    uint64_t tasks = argc > 2 ? strtoull(argv[2], NULL, 10) : 16000;
    if (rounds < 1 || tasks < 2) {
        fprintf(stderr, "usage: first_call ROUNDS TASKS (ROUNDS >= 1, TASKS >= 2)\n");
        return 2;
    }
    static const char *names[] = {"same", "float", "sleep"};
    double *pair[3], *split[3];
    for (int b = 0; b < 3; b++) {
        pair[b] = calloc((size_t)rounds, sizeof(double));
        split[b] = calloc((size_t)rounds, sizeof(double));
    }
    for (int r = 0; r < rounds; r++) {
        for (int b = 0; b < 3; b++) {
            before(b);
            uint64_t t0 = now_ns();
            sink = run_tasks(tasks, NULL);
            uint64_t t1 = now_ns();
            sink = run_tasks(tasks, NULL);
            uint64_t t2 = now_ns();
            pair[b][r] = (double)(t1 - t0) / (double)(t2 - t1);
            before(b);
            uint64_t half = 0, s0 = now_ns();
            sink = run_tasks(2 * tasks, &half);
            uint64_t s1 = now_ns();
            split[b][r] = (double)(half - s0) / (double)(s1 - half);
        }
    }
    for (int b = 0; b < 3; b++) {
        printf("%s pair %.3f split %.3f\n", names[b], median(pair[b], rounds),
               median(split[b], rounds));
    }
    return 0;
}
