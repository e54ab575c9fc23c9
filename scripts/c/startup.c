/* threadfork's independent reference for start-up: the OS primitives in a minimal C loop,
 * with nothing of threadfork (or of Rust) around them.
 *
 *   startup N      prints, one per line, the medians in ns of N rounds of:
 *     pthread_roundtrip  pthread_create + pthread_join of a thread that returns at once
 *     pthread_startup    pthread_create called -> the new thread's first clock read
 *     fork_roundtrip     fork + _exit(0) in the child + waitpid
 *     fork_startup       fork called -> the child's first clock read
 *
 * The kinds are interleaved in blocks of BLOCK rounds, so that all four see the same moments
 * of a noisy machine: a block of the two thread kinds, then a block of the two fork kinds,
 * each block after one start of its kind that is not kept. Threads measured right after a
 * fork pay for what the fork left on the parent's pages (copy-on-write faults on the cached
 * stack): a pthread_create+join interleaved round by round with forks came out up to 1.3x
 * slower, and threadfork measures its threads in a parent that does not fork. The child
 * writes its clock read into a shared page. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Rounds of one kind in a row (see above). */
#define BLOCK 10

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static volatile uint64_t *mark;

static void *started(void *arg) {
    (void)arg;
    *mark = now_ns();
    return NULL;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

static uint64_t fork_once(int record) {
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        if (record) *mark = now_ns();
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child did not exit cleanly\n");
        exit(1);
    }
    return record ? *mark - t0 : now_ns() - t0;
}

static uint64_t thread_once(int record) {
    pthread_t t;
    uint64_t t0 = now_ns();
    if (pthread_create(&t, NULL, started, NULL) != 0) {
        perror("pthread_create");
        exit(1);
    }
    pthread_join(t, NULL);
    return record ? *mark - t0 : now_ns() - t0;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) n = 1;
    mark = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mark == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    uint64_t *v[4];
    for (int k = 0; k < 4; k++) v[k] = calloc((size_t)n, sizeof(uint64_t));
    /* Warm-up: the first thread and child pay for first-touch faults. */
    thread_once(0);
    fork_once(0);
    for (int b = 0; b < n; b += BLOCK) {
        int e = b + BLOCK < n ? b + BLOCK : n;
        thread_once(0);
        for (int i = b; i < e; i++) {
            v[0][i] = thread_once(0);
            v[1][i] = thread_once(1);
        }
        fork_once(0);
        for (int i = b; i < e; i++) {
            v[2][i] = fork_once(0);
            v[3][i] = fork_once(1);
        }
    }
    printf("pthread_roundtrip %llu\n", (unsigned long long)median(v[0], n));
    printf("pthread_startup %llu\n", (unsigned long long)median(v[1], n));
    printf("fork_roundtrip %llu\n", (unsigned long long)median(v[2], n));
    printf("fork_startup %llu\n", (unsigned long long)median(v[3], n));
    return 0;
}
