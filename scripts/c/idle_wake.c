/* What a thread start costs on this host depending on what came just before it, and what an
 * unmap costs while another thread of the process runs: two leads to why a thread start reads
 * slower in one process than in another on some hosts (a 2-vCPU Intel Xeon VM: threadfork's
 * 3x a C loop there, 1.2x on an AMD EPYC VM).
 *
 *   idle_wake N    prints, one per line, "name median_ns p90_ns" over N starts of each:
 *     start_back_to_back   pthread_create -> the new thread's first clock read, one start
 *                          right after the last (the other CPU has just run a thread)
 *     start_after_sleep_50us, start_after_sleep_1ms
 *                          the same after the caller slept that long (the other CPU idle:
 *                          on a VM a halted vCPU is woken through the hypervisor)
 *     start_after_spin_200us
 *                          after the caller spun that long (the other CPU idle, this one not)
 *     munmap_alone         munmap of 16 KiB just mapped and touched (what std's thread
 *                          spawn does with a guarded signal stack at the thread's end), no
 *                          other thread in the process
 *     munmap_beside_thread the same while a second thread of the process spins on the other
 *                          CPU: the unmap must flush that CPU's TLB (an IPI, a VM exit on
 *                          hosts without a broadcast flush)
 *
 * Kinds are interleaved round by round, so that all see the same moments of a noisy host. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { BACK, SLEEP50, SLEEP1MS, SPIN200, UNMAP_ALONE, UNMAP_BESIDE, KINDS };
static const char *names[KINDS] = {
    "start_back_to_back", "start_after_sleep_50us", "start_after_sleep_1ms",
    "start_after_spin_200us", "munmap_alone", "munmap_beside_thread",
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static _Atomic uint64_t mark;
static _Atomic int spinning;

static void *started(void *arg) {
    (void)arg;
    atomic_store(&mark, now_ns());
    return NULL;
}

static void *spin(void *arg) {
    (void)arg;
    while (atomic_load(&spinning)) {
    }
    return NULL;
}

static void pause_for(int kind) {
    struct timespec s = {0, kind == SLEEP50 ? 50000 : 1000000};
    if (kind == SLEEP50 || kind == SLEEP1MS) {
        nanosleep(&s, NULL);
    } else if (kind == SPIN200) {
        uint64_t end = now_ns() + 200000;
        while (now_ns() < end) {
        }
    }
}

static uint64_t start_once(int kind) {
    pthread_t t;
    pause_for(kind);
    uint64_t t0 = now_ns();
    if (pthread_create(&t, NULL, started, NULL) != 0) {
        perror("pthread_create");
        exit(1);
    }
    pthread_join(t, NULL);
    return atomic_load(&mark) - t0;
}

/* The munmap alone is timed: the mapping and its first-touch faults are not. */
static uint64_t unmap_once(void) {
    size_t len = 16384;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    for (size_t i = 0; i < len; i += 4096) p[i] = 1;
    uint64_t t0 = now_ns();
    munmap(p, len);
    return now_ns() - t0;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) n = 1;
    uint64_t *v[KINDS];
    for (int k = 0; k < KINDS; k++) v[k] = calloc((size_t)n, sizeof(uint64_t));
    start_once(BACK); /* the first thread pays for first-touch faults */
    for (int i = 0; i < n; i++) {
        for (int k = BACK; k <= SPIN200; k++) v[k][i] = start_once(k);
        v[UNMAP_ALONE][i] = unmap_once();
        pthread_t s;
        atomic_store(&spinning, 1);
        if (pthread_create(&s, NULL, spin, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
        /* Let the spinner reach the other CPU before timing. */
        uint64_t end = now_ns() + 100000;
        while (now_ns() < end) {
        }
        v[UNMAP_BESIDE][i] = unmap_once();
        atomic_store(&spinning, 0);
        pthread_join(s, NULL);
    }
    for (int k = 0; k < KINDS; k++) {
        qsort(v[k], (size_t)n, sizeof(uint64_t), by_value);
        printf("%s %llu %llu\n", names[k], (unsigned long long)v[k][n / 2],
               (unsigned long long)v[k][n * 9 / 10]);
    }
    return 0;
}
