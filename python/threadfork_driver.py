"""threadfork's CPython driver: runs the classic Python concurrency examples the way a Python
user writes them, timed by the same definitions as threadfork's Rust side, and reports raw
timestamps and counts. threadfork — not this driver — checks every checksum and total and
computes every statistic.

Standard library only. Protocol: one JSON request on standard input, one JSON report on
standard output; anything else is an error (exit 2 for a bad request, 1 for a failed case).

Request: {"workload": "square" | "counter" | "sequence", "model": MODEL, "workers": N,
          "samples": S, "warmup": W, "params": {...}}
  square   models: sequential, threads, fork, spawn, thread-pool, process-pool
           params: work (squares per task), tasks (tasks per sample, split between workers)
  counter  models: sequential, threads (threading.Lock), fork, spawn (multiprocessing.Lock and
           a shared Value); params: increments (per worker), hold_ns, hold_sleep
  sequence models: list, generator; params: n, evens (0: 0..n, 1: its even numbers)
Report:  {"runtime": {...}, "samples": [{"release_ns": T, "workers": [{"requested_ns",
          "started_ns", "begin_ns", "end_ns", "ops", "checksum"}...]}...], "shared": X}
  For sequence: {"runtime": {...}, "samples": [{"getsizeof", "heap_bytes", "first_item_ns",
          "elapsed_ns", "items", "sum"}...]}

Times are CLOCK_MONOTONIC nanoseconds (time.clock_gettime_ns), the clock threadfork reads, so
a worker's first instruction compares with the parent's request across processes.
"""

import json
import multiprocessing
import os
import platform
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

MASK = (1 << 64) - 1
# Per worker in the shared array: requested, started, begin, end, ops, checksum.
FIELDS = 6


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def die_with_parent(parent):
    """Asks the kernel to kill this process when its parent dies (PR_SET_PDEATHSIG), then
    checks the parent is still `parent`: threadfork killed by SIGKILL takes its driver along,
    and the driver its workers, so nothing goes on starting processes after threadfork."""
    try:
        import ctypes

        PR_SET_PDEATHSIG, SIGKILL = 1, 9
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def worker_start(driver):
    """The first thing every worker process does: die with the driver that started it."""
    if os.getpid() != driver:
        die_with_parent(driver)


def runtime():
    gil = True
    probe = getattr(sys, "_is_gil_enabled", None)
    if probe is not None:
        gil = bool(probe())
    return {
        "implementation": platform.python_implementation().lower(),
        "version": platform.python_version(),
        "gil": gil,
        "executable": sys.executable,
    }


def square_numbers(work):
    """The classic example's loop, as written: i * i for i in range(work); the sum is the
    checksum threadfork checks against the closed form."""
    acc = 0
    for i in range(work):
        acc += i * i
    return acc


def split(total, k, n):
    """Worker k of n's share of `total`, as threadfork splits it."""
    return total // n + (1 if k < total % n else 0)


# ---- square ------------------------------------------------------------------------------


def run_workers(model, start, target, args, n, cells, ready, release):
    """Starts n workers (or, sequentially, runs them one after another on this thread), each
    asked for at its slot's request time; releases them together once all are ready; joins
    them. Returns the release time."""
    if model == "sequential":
        release.set()
        release_ns = now_ns()
        for k in range(n):
            cells[k * FIELDS] = now_ns()
            target(*args(k))
        return release_ns
    procs = []
    for k in range(n):
        cells[k * FIELDS] = now_ns()
        p = start(target=target, args=args(k))
        p.start()
        procs.append(p)
    for _ in range(n):
        ready.acquire()
    release_ns = now_ns()
    release.set()
    for p in procs:
        p.join()
        if getattr(p, "exitcode", 0) not in (0, None):
            raise RuntimeError(f"worker process exited with code {p.exitcode}")
    return release_ns


def square_worker(k, work, tasks, cells, ready, release, driver=None):
    cells[k * FIELDS + 1] = now_ns()
    worker_start(driver)
    ready.release()
    release.wait()
    begin = now_ns()
    checksum = 0
    for _ in range(tasks):
        checksum = (checksum + square_numbers(work)) & MASK
    end = now_ns()
    cells[k * FIELDS + 2] = begin
    cells[k * FIELDS + 3] = end
    cells[k * FIELDS + 4] = tasks * work
    cells[k * FIELDS + 5] = checksum


def square_task(work):
    """One task for a pool: (squares done, checksum)."""
    return work, square_numbers(work) & MASK


def report(cells, n, release_ns):
    workers = []
    for k in range(n):
        base = k * FIELDS
        workers.append(
            {
                "requested_ns": cells[base],
                "started_ns": cells[base + 1],
                "begin_ns": cells[base + 2],
                "end_ns": cells[base + 3],
                "ops": cells[base + 4],
                "checksum": cells[base + 5],
            }
        )
    return {"release_ns": release_ns, "workers": workers}


def square_sample(model, n, work, tasks):
    if model in ("thread-pool", "process-pool"):
        return square_pool_sample(model, n, work, tasks)
    if model in ("fork", "spawn"):
        ctx = multiprocessing.get_context(model)
        cells = ctx.Array("Q", n * FIELDS, lock=False)
        ready, release = ctx.Semaphore(0), ctx.Event()
        start = ctx.Process
    else:
        cells = [0] * (n * FIELDS)
        ready, release = threading.Semaphore(0), threading.Event()
        start = threading.Thread
    args = lambda k: (k, work, split(tasks, k, n), cells, ready, release, os.getpid())
    release_ns = run_workers(model, start, square_worker, args, n, cells, ready, release)
    return report(cells, n, release_ns)


POOLS = {}


def square_pool_sample(model, n, work, tasks):
    """concurrent.futures, as the classic example uses it: the pool is made once per case (its
    start is not in the sample); `executor.map` over the tasks; every task's result collected.
    Worker k's figures are the tasks its share would hold, so threadfork checks them alike."""
    pool = POOLS.get(model)
    if pool is None:
        if model == "thread-pool":
            pool = ThreadPoolExecutor(n)
        else:
            pool = ProcessPoolExecutor(n, initializer=worker_start, initargs=(os.getpid(),))
        # Warm: every worker started and the function imported before the clock runs.
        list(pool.map(square_task, [1] * (4 * n)))
        POOLS[model] = pool
    release_ns = now_ns()
    done = list(pool.map(square_task, [work] * tasks))
    end = now_ns()
    cells = [0] * (n * FIELDS)
    first = 0
    for k in range(n):
        share = split(tasks, k, n)
        checksum = 0
        for ops, c in done[first : first + share]:
            checksum = (checksum + c) & MASK
        first += share
        base = k * FIELDS
        cells[base : base + FIELDS] = [release_ns, release_ns, release_ns, end, share * work, checksum]
    return report(cells, n, release_ns)


# ---- counter -----------------------------------------------------------------------------


def hold(hold_ns, sleep):
    if hold_ns <= 0:
        return
    if sleep:
        time.sleep(hold_ns / 1e9)
    else:
        until = now_ns() + hold_ns
        while now_ns() < until:
            pass


def counter_worker(k, increments, cells, ready, release, lock, value, hold_ns, sleep, driver=None):
    cells[k * FIELDS + 1] = now_ns()
    worker_start(driver)
    ready.release()
    release.wait()
    begin = now_ns()
    for _ in range(increments):
        with lock:
            local = value.value
            hold(hold_ns, sleep)
            value.value = local + 1
    cells[k * FIELDS + 2] = begin
    cells[k * FIELDS + 3] = now_ns()
    cells[k * FIELDS + 4] = increments


class Box:
    """The classic example's global "database" value, for threads."""

    def __init__(self):
        self.value = 0


def counter_sample(model, n, increments, hold_ns, sleep):
    if model in ("fork", "spawn"):
        ctx = multiprocessing.get_context(model)
        cells = ctx.Array("Q", n * FIELDS, lock=False)
        ready, release = ctx.Semaphore(0), ctx.Event()
        lock, value = ctx.Lock(), ctx.Value("Q", 0, lock=False)
        start = ctx.Process
    else:
        cells = [0] * (n * FIELDS)
        ready, release = threading.Semaphore(0), threading.Event()
        lock, value = threading.Lock(), Box()
        start = threading.Thread
    args = lambda k: (k, increments, cells, ready, release, lock, value, hold_ns, sleep, os.getpid())
    release_ns = run_workers(model, start, counter_worker, args, n, cells, ready, release)
    out = report(cells, n, release_ns)
    out["shared"] = value.value
    return out


# ---- sequence ----------------------------------------------------------------------------


def build(model, n, evens):
    """0..n (or its evens) as the classic example writes it: a list built by append, or a
    generator."""
    if model == "list":
        items = []
        for i in range(n):
            if not evens or i % 2 == 0:
                items.append(i)
        return items
    if evens:
        return (i for i in range(n) if i % 2 == 0)
    return (i for i in range(n))


def sequence_sample(model, n, evens):
    """Timed: build, take the first item, sum the rest. Then, apart (tracemalloc slows every
    allocation), the same build under tracemalloc for its peak heap, and sys.getsizeof."""
    t0 = now_ns()
    items = build(model, n, evens)
    it = iter(items)
    first = next(it, None)
    first_ns = now_ns() - t0
    total = 0 if first is None else first
    for x in it:
        total += x
    elapsed = now_ns() - t0
    del items, it
    tracemalloc.start()
    items = build(model, n, evens)
    size = sys.getsizeof(items)
    count = 0
    for _ in items:
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "getsizeof": size,
        "heap_bytes": peak,
        "first_item_ns": first_ns,
        "elapsed_ns": elapsed,
        "items": count,
        "sum": total,
    }


# ---- entry -------------------------------------------------------------------------------


def run(req):
    workload, model = req["workload"], req["model"]
    n = int(req.get("workers", 1))
    params = req.get("params", {})
    rounds = int(req.get("warmup", 1)) + int(req.get("samples", 1))
    samples = []
    for _ in range(rounds):
        if workload == "square":
            s = square_sample(model, n, int(params["work"]), int(params["tasks"]))
        elif workload == "counter":
            s = counter_sample(
                model,
                n,
                int(params["increments"]),
                int(params.get("hold_ns", 0)),
                bool(params.get("hold_sleep", 0)),
            )
        elif workload == "sequence":
            s = sequence_sample(model, int(params["n"]), bool(params.get("evens", 0)))
        else:
            raise ValueError(f"no workload {workload!r}")
        samples.append(s)
    for pool in POOLS.values():
        pool.shutdown()
    return {"runtime": runtime(), "samples": samples[int(req.get("warmup", 1)) :]}


def main():
    parent = os.environ.get("THREADFORK_PARENT")
    die_with_parent(int(parent) if parent and parent.isdigit() else None)
    if len(sys.argv) > 1 and sys.argv[1] == "--runtime":
        print(json.dumps({"runtime": runtime()}))
        return 0
    try:
        req = json.loads(sys.stdin.read())
    except ValueError as e:
        print(f"threadfork driver: the request is not JSON: {e}", file=sys.stderr)
        return 2
    try:
        out = run(req)
    except (KeyError, ValueError) as e:
        print(f"threadfork driver: bad request: {e!r}", file=sys.stderr)
        return 2
    except Exception as e:  # a failed case: its reason, one line
        print(f"threadfork driver: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
