/* One thread pool for NumPy's OpenBLAS and the training kernels.
 *
 * Design: a training step alternates GEMMs with element-wise passes (the
 * minibatch gather, the optimizer step, activations). OpenBLAS runs its
 * GEMMs on its own pool, whose workers spin for ~0.1 s after each call
 * without yielding; a second pool for the element-wise passes (Numba's,
 * OpenMP's) then fights them for the cores, measured here at 20x slower.
 * So the element-wise passes ran on one core while the GEMMs used all.
 * OpenBLAS >= 0.3.28 lets a program replace its threading backend
 * (openblas_set_threads_callback_function). fastmlp installs this pool
 * there, once per process, so that OpenBLAS's jobs and the kernels' parts
 * run on the same workers and never compete (measured, 60000x784 float32,
 * hidden (100,), batch 200: the training GEMMs take the same time on this
 * pool as on OpenBLAS's, 110 ms per epoch; with the row gather between
 * them 137 ms on one core, 123 ms split over the pool's two). SciPy's own
 * OpenBLAS, which L-BFGS-B calls between the kernels' passes, is attached
 * to the same pool (fastmlp_pool_attach) for the same reason.
 *
 * The pool: the caller runs part 0, n_parts - 1 workers run the others and
 * the caller waits for them. Workers spin (with pause) for a short while
 * after their part, so that the next GEMM of the step finds them awake,
 * then sleep on a futex. OpenBLAS's jobs must run at the same time (they
 * wait on each other's progress), so a job never runs on fewer threads than
 * it has parts; the kernels' own passes, which are independent, run
 * serially in the caller when another thread holds the pool.
 *
 * The generation word carries the part count of the dispatch it starts
 * (low 8 bits), so a worker outside the dispatch needs nothing else from
 * the shared state, which the next dispatch may already be rewriting.
 *
 * Only on Linux (futex); elsewhere fastmlp_pool_install fails and every
 * pass runs serially.
 */
#ifndef FASTMLP_POOL_H
#define FASTMLP_POOL_H

#include <stddef.h>

#include "_finite.h"
#include "_vector.h"   /* fastmlp_gather_rows */

typedef void (*fastmlp_task)(void *arg, int part, int n_parts);

#if defined(__linux__) && !defined(__STDC_NO_ATOMICS__) && !defined(__STDC_NO_THREADS__)
#define FASTMLP_HAVE_POOL 1
#else
#define FASTMLP_HAVE_POOL 0
#endif

#if FASTMLP_HAVE_POOL

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FASTMLP_POOL_MAX_PARTS 255          /* fits the generation's low byte */
/* FASTMLP_POOL_SPIN_NS (how long a worker stays awake after a part) and
 * FASTMLP_POOL_PAUSES (pauses between two yields) come from
 * fastmlp/_tunables.py, through setup.py. */
#if !defined(FASTMLP_POOL_SPIN_NS) || !defined(FASTMLP_POOL_PAUSES)
#error "build the kernels with setup.py: it defines the tunables of fastmlp/_tunables.py"
#endif

#if defined(__x86_64__) || defined(__i386__)
#define FASTMLP_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define FASTMLP_PAUSE() __asm__ __volatile__("yield")
#else
#define FASTMLP_PAUSE() ((void) 0)
#endif

typedef void (*fastmlp_blas_job)(int thread_num, void *jobdata, int dojob_data);
typedef void (*fastmlp_blas_threads)(int sync, fastmlp_blas_job dojob, int numjobs,
                                     size_t jobdata_elsize, void *jobdata,
                                     int dojob_data);

static struct {
    _Atomic unsigned generation;     /* counter << 8 | n_parts */
    _Atomic int pending;             /* parts still running in workers */
    _Atomic int sleepers;            /* workers in futex_wait */
    fastmlp_task task;
    void *arg;
    int n_workers;
    unsigned start_generation[FASTMLP_POOL_MAX_PARTS];
    pthread_mutex_t lock;            /* one dispatch at a time */
    int (*blas_threads)(void);       /* OpenBLAS's current thread count */
    _Atomic int installed;
} fastmlp_pool = {0, 0, 0, NULL, NULL, 0, {0}, PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static long fastmlp_futex(_Atomic unsigned *word, int op, unsigned value) {
    return syscall(SYS_futex, (unsigned *) word, op, value, NULL, NULL, 0);
}

static long fastmlp_elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

/* One step of a busy wait: a pause, and every FASTMLP_POOL_PAUSES steps a
 * yield of the core; returns whether it yielded. */
static inline int fastmlp_pool_spin(unsigned long *spins) {
    FASTMLP_PAUSE();
    if (++*spins % FASTMLP_POOL_PAUSES != 0) {
        return 0;
    }
    sched_yield();
    return 1;
}

/* Work for idle threads: the next minibatch's gather, the next block's check.
 *
 * A training step reads a minibatch of rows that no cache holds: on a
 * machine with little memory bandwidth per core (measured here, 2-core
 * Sapphire Rapids VM, ~12 GB/s) the gather of 200 rows x 784 float32 took
 * 63 us of a 430 us step, above the GEMM floor. Prediction reads each block
 * of rows from memory the same way, in the check for non-finite values
 * before its GEMM. Yet the cores sit idle in every step: a worker spins
 * while the caller runs a serial pass, the caller spins while the last part
 * of a GEMM finishes. So a loop that knows what it will read next posts
 * that work here ("arms" a job), the threads that would spin do it a unit
 * at a time instead, and the loop later only finishes what is left.
 *
 * A job is n_units calls of a unit task (fastmlp_idle_task); a unit is a
 * microsecond or so of work, so a thread is never long late for the next
 * dispatch. One loop at a time owns the facility (fastmlp_idle_acquire);
 * another loop, on another Python thread, does its work itself. The ticket
 * word holds the job number, its unit count and the next unclaimed unit; a
 * thread claims a unit by compare-and-swap on it, then reads the job's
 * arguments. The owner rewrites those only to arm the next job, after every
 * claimed unit was done (fastmlp_idle_finish waits for that), and a claim
 * on an older job fails because the ticket moved on. */
#define FASTMLP_IDLE_UNIT_BITS 20           /* units of a job < 2^20 */
#define FASTMLP_IDLE_MAX_UNITS ((1L << FASTMLP_IDLE_UNIT_BITS) - 1)
#define FASTMLP_IDLE_GATHER_BYTES 8192      /* a gather unit copies ~this */
#define FASTMLP_IDLE_CHECK_BYTES 16384      /* bytes a check unit reads */

typedef void (*fastmlp_idle_task)(ptrdiff_t unit);

/* The jobs' arguments: one job is armed at a time, so one of each. */
typedef struct {
    const char *src;
    ptrdiff_t row_bytes;
    const ptrdiff_t *rows;
    ptrdiff_t n_rows;
    char *dst;
    ptrdiff_t rows_per_unit;                /* whole rows a unit copies, */
    ptrdiff_t pieces;                       /* or a row's pieces (wide rows) */
} fastmlp_idle_gather_args;

typedef struct {
    const void *data;
    ptrdiff_t n;                            /* entries */
    int single;                             /* float32, else float64 */
    _Atomic int bad;                        /* a unit saw NaN or infinity */
} fastmlp_idle_check_args;

static struct {
    /* job << 2 * UNIT_BITS | n_units << UNIT_BITS | next unit; job 0: none */
    _Atomic unsigned long long ticket;
    fastmlp_idle_task task;
    _Atomic ptrdiff_t done;                 /* units done */
    _Atomic int owned;
    fastmlp_idle_gather_args gather;
    fastmlp_idle_check_args check;
} fastmlp_idle;

static inline ptrdiff_t fastmlp_idle_field(unsigned long long ticket, int which) {
    return (ptrdiff_t) ((ticket >> (which * FASTMLP_IDLE_UNIT_BITS)) & FASTMLP_IDLE_MAX_UNITS);
}

/* Do one unit of the armed job, if any is left; 1 if it did. */
static int fastmlp_idle_work(void) {
    unsigned long long ticket = atomic_load_explicit(&fastmlp_idle.ticket,
                                                     memory_order_acquire);
    do {
        if ((ticket >> (2 * FASTMLP_IDLE_UNIT_BITS)) == 0
                || fastmlp_idle_field(ticket, 0) >= fastmlp_idle_field(ticket, 1)) {
            return 0;
        }
    } while (!atomic_compare_exchange_weak_explicit(
        &fastmlp_idle.ticket, &ticket, ticket + 1, memory_order_acquire,
        memory_order_acquire));
    fastmlp_idle.task(fastmlp_idle_field(ticket, 0));
    atomic_fetch_add_explicit(&fastmlp_idle.done, 1, memory_order_release);
    return 1;
}

/* Own the facility for one loop: 1 if this loop may arm jobs. */
static int fastmlp_idle_acquire(void) {
    int free_ = 0;
    return atomic_compare_exchange_strong(&fastmlp_idle.owned, &free_, 1);
}

/* Post the job (the owner only, its previous job finished, the job's
 * arguments set); 0 if it has too many units to post. */
static int fastmlp_idle_post(fastmlp_idle_task task, ptrdiff_t n_units) {
    unsigned long long job;
    if (n_units < 1 || n_units > FASTMLP_IDLE_MAX_UNITS) {
        return 0;
    }
    job = (atomic_load(&fastmlp_idle.ticket) >> (2 * FASTMLP_IDLE_UNIT_BITS)) + 1;
    if (job >> (64 - 2 * FASTMLP_IDLE_UNIT_BITS)) {
        job = 1;                             /* wrapped */
    }
    fastmlp_idle.task = task;
    atomic_store_explicit(&fastmlp_idle.done, 0, memory_order_relaxed);
    atomic_store_explicit(
        &fastmlp_idle.ticket,
        job << (2 * FASTMLP_IDLE_UNIT_BITS)
            | (unsigned long long) n_units << FASTMLP_IDLE_UNIT_BITS,
        memory_order_release);
    return 1;
}

/* A unit copies whole rows, about FASTMLP_IDLE_GATHER_BYTES of them, or
 * one FASTMLP_IDLE_GATHER_BYTES piece of a row wider than that. */
static void fastmlp_idle_gather_unit(ptrdiff_t unit) {
    const fastmlp_idle_gather_args *g = &fastmlp_idle.gather;
    ptrdiff_t r, stop, lo;
    if (g->pieces > 1) {
        r = unit / g->pieces;
        lo = unit % g->pieces * FASTMLP_IDLE_GATHER_BYTES;
        memcpy(g->dst + r * g->row_bytes + lo, g->src + g->rows[r] * g->row_bytes + lo,
               (size_t) (g->row_bytes - lo < FASTMLP_IDLE_GATHER_BYTES
                         ? g->row_bytes - lo : FASTMLP_IDLE_GATHER_BYTES));
        return;
    }
    r = unit * g->rows_per_unit;
    stop = r + g->rows_per_unit < g->n_rows ? r + g->rows_per_unit : g->n_rows;
    fastmlp_gather_rows(g->src, g->row_bytes, g->rows + r, stop - r,
                        g->dst + r * g->row_bytes);
}

/* Post the gather dst[r] = src[rows[r]] (rows of row_bytes bytes, r <
 * n_rows). 0 if not posted (the caller gathers itself). */
static int fastmlp_idle_arm_gather(const char *src, ptrdiff_t row_bytes,
                                   const ptrdiff_t *rows, ptrdiff_t n_rows, char *dst) {
    fastmlp_idle_gather_args *g = &fastmlp_idle.gather;
    g->src = src;
    g->row_bytes = row_bytes;
    g->rows = rows;
    g->n_rows = n_rows;
    g->dst = dst;
    if (row_bytes < 1 || n_rows < 1) {
        return 0;
    }
    g->pieces = (row_bytes + FASTMLP_IDLE_GATHER_BYTES - 1) / FASTMLP_IDLE_GATHER_BYTES;
    g->rows_per_unit = g->pieces > 1 ? 1 : FASTMLP_IDLE_GATHER_BYTES / row_bytes;
    if (g->pieces > 1) {
        /* (A count past what a job holds is refused by the post.) */
        return n_rows > FASTMLP_IDLE_MAX_UNITS / g->pieces
            ? 0 : fastmlp_idle_post(fastmlp_idle_gather_unit, n_rows * g->pieces);
    }
    return fastmlp_idle_post(fastmlp_idle_gather_unit,
                             (n_rows + g->rows_per_unit - 1) / g->rows_per_unit);
}

static void fastmlp_idle_check_unit(ptrdiff_t unit) {
    fastmlp_idle_check_args *c = &fastmlp_idle.check;
    const ptrdiff_t size = c->single ? 4 : 8, per_unit = FASTMLP_IDLE_CHECK_BYTES / size;
    const ptrdiff_t lo = unit * per_unit;
    const ptrdiff_t n = lo + per_unit < c->n ? per_unit : c->n - lo;
    const int finite = c->single
        ? fastmlp_all_finite_f32((const float *) c->data + lo, n)
        : fastmlp_all_finite_f64((const double *) c->data + lo, n);
    if (!finite) {
        atomic_store_explicit(&c->bad, 1, memory_order_relaxed);
    }
}

/* Post the check of n float32 (single) or float64 entries for NaN and
 * infinity; its verdict comes from fastmlp_idle_finish_check. 0 if not
 * posted (the caller checks itself). */
static int fastmlp_idle_arm_check(const void *data, ptrdiff_t n, int single) {
    fastmlp_idle_check_args *c = &fastmlp_idle.check;
    const ptrdiff_t per_unit = FASTMLP_IDLE_CHECK_BYTES / (single ? 4 : 8);
    c->data = data;
    c->n = n;
    c->single = single;
    atomic_store_explicit(&c->bad, 0, memory_order_relaxed);
    return fastmlp_idle_post(fastmlp_idle_check_unit, (n + per_unit - 1) / per_unit);
}

static void fastmlp_idle_part(void *arg, int part, int n_parts) {
    (void) arg; (void) part; (void) n_parts;
    while (fastmlp_idle_work()) {
    }
}

static void fastmlp_pool_dispatch(fastmlp_task task, void *arg, int n_parts, int must_share);
static int fastmlp_pool_parts(ptrdiff_t work, ptrdiff_t min_work);

/* Do what idle threads left of the armed job, on the pool's threads when
 * at least min_units are left, and wait until every unit is done. */
static void fastmlp_idle_finish(ptrdiff_t min_units) {
    unsigned long long ticket = atomic_load(&fastmlp_idle.ticket);
    ptrdiff_t n = fastmlp_idle_field(ticket, 1);
    ptrdiff_t left = n - fastmlp_idle_field(ticket, 0);
    if ((ticket >> (2 * FASTMLP_IDLE_UNIT_BITS)) == 0) {
        return;
    }
    if (left > 0) {
        fastmlp_pool_dispatch(fastmlp_idle_part, NULL, fastmlp_pool_parts(left, min_units), 0);
    }
    /* Units another thread claimed may still be under way. */
    while (atomic_load_explicit(&fastmlp_idle.done, memory_order_acquire) < n) {
        FASTMLP_PAUSE();
    }
}

/* Finish the armed gather, on the pool when at least min_bytes are left. */
static void fastmlp_idle_finish_gather(ptrdiff_t min_bytes) {
    const fastmlp_idle_gather_args *g = &fastmlp_idle.gather;
    const ptrdiff_t unit_bytes = g->pieces > 1 ? FASTMLP_IDLE_GATHER_BYTES
                                               : g->rows_per_unit * g->row_bytes;
    fastmlp_idle_finish(unit_bytes > 0 && min_bytes > unit_bytes ? min_bytes / unit_bytes : 1);
}

/* Finish the armed check (on the pool when at least min_bytes are left);
 * 1 if every entry was finite. */
static int fastmlp_idle_finish_check(ptrdiff_t min_bytes) {
    fastmlp_idle_finish(min_bytes > FASTMLP_IDLE_CHECK_BYTES
                        ? min_bytes / FASTMLP_IDLE_CHECK_BYTES : 1);
    return !atomic_load_explicit(&fastmlp_idle.check.bad, memory_order_relaxed);
}

/* Finish any job armed and give the facility up. */
static void fastmlp_idle_release(void) {
    fastmlp_idle_finish(FASTMLP_IDLE_MAX_UNITS);
    atomic_store(&fastmlp_idle.owned, 0);
}

/* Wait until the generation differs from seen; return it. */
static unsigned fastmlp_pool_wait(unsigned seen) {
    struct timespec start;
    unsigned g;
    unsigned long spins = 0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((g = atomic_load_explicit(&fastmlp_pool.generation, memory_order_acquire)) == seen) {
        if (fastmlp_idle_work()) {
            continue;
        }
        if (!fastmlp_pool_spin(&spins)) {
            continue;
        }
        if (fastmlp_elapsed_ns(&start) < FASTMLP_POOL_SPIN_NS) {
            continue;
        }
        /* seq_cst on both sides (here and in fastmlp_pool_run): either the
         * dispatcher sees this sleeper, or this load sees its generation. */
        atomic_fetch_add(&fastmlp_pool.sleepers, 1);
        if (atomic_load(&fastmlp_pool.generation) == seen) {
            fastmlp_futex(&fastmlp_pool.generation, FUTEX_WAIT_PRIVATE, seen);
        }
        atomic_fetch_sub(&fastmlp_pool.sleepers, 1);
        clock_gettime(CLOCK_MONOTONIC, &start);
    }
    return g;
}

static void *fastmlp_pool_worker(void *arg) {
    const int id = (int) (size_t) arg;       /* runs part id */
    unsigned seen = fastmlp_pool.start_generation[id];
    for (;;) {
        seen = fastmlp_pool_wait(seen);
        if (id < (int) (seen & 255u)) {
            fastmlp_pool.task(fastmlp_pool.arg, id, (int) (seen & 255u));
            atomic_fetch_sub_explicit(&fastmlp_pool.pending, 1, memory_order_release);
        }
    }
    return NULL;
}

/* Start workers until there are n (the lock is held); 0 on failure. */
static int fastmlp_pool_grow(int n) {
    pthread_attr_t attr;
    pthread_t thread;
    int ok = 1;
    if (n > FASTMLP_POOL_MAX_PARTS - 1) {
        return 0;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (fastmlp_pool.n_workers < n) {
        const int id = fastmlp_pool.n_workers + 1;
        fastmlp_pool.start_generation[id] = atomic_load(&fastmlp_pool.generation);
        if (pthread_create(&thread, &attr, fastmlp_pool_worker, (void *) (size_t) id) != 0) {
            ok = 0;
            break;
        }
        fastmlp_pool.n_workers = id;
    }
    pthread_attr_destroy(&attr);
    return ok;
}

/* Wait for the workers' parts. Spinning alone would hold this core while
 * a worker that needs it waits to be scheduled (on a machine with more
 * runnable threads than cores, a whole time slice per dispatch), so the
 * wait yields between short spins, as OpenBLAS's own waits do. */
static void fastmlp_pool_join(void) {
    unsigned long spins = 0;
    while (atomic_load_explicit(&fastmlp_pool.pending, memory_order_acquire) > 0) {
        if (fastmlp_idle_work()) {
            continue;
        }
        fastmlp_pool_spin(&spins);
    }
}

/* Run task(arg, part, n_parts) for every part, part 0 in the caller; return
 * when all are done. must_share: the parts wait on each other (OpenBLAS's
 * jobs), so wait for the pool rather than run them one after another. */
static void fastmlp_pool_dispatch(fastmlp_task task, void *arg, int n_parts, int must_share) {
    unsigned next;
    int part;
    if (n_parts <= 1) {
        task(arg, 0, 1);
        return;
    }
    if (must_share) {
        pthread_mutex_lock(&fastmlp_pool.lock);
    } else if (pthread_mutex_trylock(&fastmlp_pool.lock) != 0) {
        for (part = 0; part < n_parts; part++) {
            task(arg, part, n_parts);
        }
        return;
    }
    if (!fastmlp_pool_grow(n_parts - 1)) {
        pthread_mutex_unlock(&fastmlp_pool.lock);
        if (must_share) {
            fprintf(stderr, "fastmlp: cannot start %d threads for OpenBLAS\n", n_parts);
            abort();
        }
        for (part = 0; part < n_parts; part++) {
            task(arg, part, n_parts);
        }
        return;
    }
    fastmlp_pool.task = task;
    fastmlp_pool.arg = arg;
    atomic_store_explicit(&fastmlp_pool.pending, n_parts - 1, memory_order_relaxed);
    next = ((atomic_load(&fastmlp_pool.generation) >> 8) + 1) << 8 | (unsigned) n_parts;
    atomic_store(&fastmlp_pool.generation, next);
    if (atomic_load(&fastmlp_pool.sleepers) > 0) {
        fastmlp_futex(&fastmlp_pool.generation, FUTEX_WAKE_PRIVATE, 0x7fffffff);
    }
    task(arg, 0, n_parts);
    fastmlp_pool_join();
    pthread_mutex_unlock(&fastmlp_pool.lock);
}

/* OpenBLAS's threading backend: job i runs as thread i. */
typedef struct {
    fastmlp_blas_job dojob;
    char *jobdata;
    size_t elsize;
    int dojob_data;
} fastmlp_blas_work;

static void fastmlp_blas_task(void *arg, int part, int n_parts) {
    fastmlp_blas_work *work = (fastmlp_blas_work *) arg;
    (void) n_parts;
    work->dojob(part, work->jobdata + (size_t) part * work->elsize, work->dojob_data);
}

static void fastmlp_blas_backend(int sync, fastmlp_blas_job dojob, int numjobs,
                                 size_t jobdata_elsize, void *jobdata, int dojob_data) {
    /* Always synchronous: OpenBLAS asks for sync = 1 everywhere. */
    fastmlp_blas_work work = {dojob, (char *) jobdata, jobdata_elsize, dojob_data};
    (void) sync;
    if (numjobs > FASTMLP_POOL_MAX_PARTS) {
        fprintf(stderr, "fastmlp: OpenBLAS asked for %d threads\n", numjobs);
        abort();
    }
    fastmlp_pool_dispatch(fastmlp_blas_task, &work, numjobs, 1);
}

static void fastmlp_pool_prepare_fork(void) { pthread_mutex_lock(&fastmlp_pool.lock); }
static void fastmlp_pool_parent_fork(void) { pthread_mutex_unlock(&fastmlp_pool.lock); }

/* A forked child has only the forking thread: forget the workers (they are
 * started again on demand) and reset the lock the prepare handler took. */
static void fastmlp_pool_child_fork(void) {
    pthread_mutex_init(&fastmlp_pool.lock, NULL);
    fastmlp_pool.n_workers = 0;
    atomic_store(&fastmlp_pool.sleepers, 0);
    atomic_store(&fastmlp_pool.pending, 0);
    atomic_store(&fastmlp_idle.ticket, 0);
    atomic_store(&fastmlp_idle.owned, 0);
}

/* Make this pool OpenBLAS's threading backend. Arguments: the addresses of
 * openblas_set_threads_callback_function, of the variable that holds the
 * current backend (openblas_threads_callback_), and of
 * openblas_get_num_threads. Returns 1 if installed (or already), 0 if not:
 * another backend is already there, or threads could not start. */
static int fastmlp_pool_install(size_t set_backend, size_t current_backend,
                                size_t get_num_threads) {
    fastmlp_blas_threads *current = (fastmlp_blas_threads *) current_backend;
    int ok;
    if (atomic_load(&fastmlp_pool.installed)) {
        return 1;
    }
    if (*current != NULL && *current != fastmlp_blas_backend) {
        return 0;
    }
    fastmlp_pool.blas_threads = (int (*)(void)) get_num_threads;
    pthread_mutex_lock(&fastmlp_pool.lock);
    ok = fastmlp_pool_grow(fastmlp_pool.blas_threads() - 1);
    pthread_mutex_unlock(&fastmlp_pool.lock);
    if (!ok) {
        return 0;
    }
    pthread_atfork(fastmlp_pool_prepare_fork, fastmlp_pool_parent_fork,
                   fastmlp_pool_child_fork);
    ((void (*)(fastmlp_blas_threads)) set_backend)(fastmlp_blas_backend);
    atomic_store(&fastmlp_pool.installed, 1);
    return 1;
}

/* Make the installed pool the threading backend of another OpenBLAS too
 * (SciPy's, which L-BFGS-B calls): its jobs then run on the same workers
 * as NumPy's instead of on threads that spin beside them. That OpenBLAS
 * still splits its work by its own thread count, so its results do not
 * change. Arguments as for fastmlp_pool_install, in that library; returns
 * 1 if the pool is (or already was) its backend, else 0. */
static int fastmlp_pool_attach(size_t set_backend, size_t current_backend) {
    fastmlp_blas_threads *current = (fastmlp_blas_threads *) current_backend;
    if (!atomic_load(&fastmlp_pool.installed)) {
        return 0;
    }
    if (*current == fastmlp_blas_backend) {
        return 1;
    }
    if (*current != NULL) {
        return 0;
    }
    ((void (*)(fastmlp_blas_threads)) set_backend)(fastmlp_blas_backend);
    return 1;
}

/* Parts to split `work` units into: OpenBLAS's thread count (what
 * threadpoolctl sets) once the pool is installed and work >= min_work,
 * else 1. */
static int fastmlp_pool_parts(ptrdiff_t work, ptrdiff_t min_work) {
    int threads;
    if (work < min_work || !atomic_load_explicit(&fastmlp_pool.installed, memory_order_relaxed)) {
        return 1;
    }
    threads = fastmlp_pool.blas_threads();
    return threads < 1 ? 1 : (threads > FASTMLP_POOL_MAX_PARTS ? FASTMLP_POOL_MAX_PARTS : threads);
}

static int fastmlp_pool_workers(void) { return fastmlp_pool.n_workers; }
static int fastmlp_pool_installed(void) { return atomic_load(&fastmlp_pool.installed); }

#else  /* no pool: every pass runs in the caller */

static void fastmlp_pool_dispatch(fastmlp_task task, void *arg, int n_parts, int must_share) {
    int part;
    (void) must_share;
    for (part = 0; part < n_parts; part++) {
        task(arg, part, n_parts);
    }
}
static int fastmlp_pool_install(size_t a, size_t b, size_t c) {
    (void) a; (void) b; (void) c;
    return 0;
}

static int fastmlp_pool_attach(size_t a, size_t b) {
    (void) a; (void) b;
    return 0;
}
static int fastmlp_pool_parts(ptrdiff_t work, ptrdiff_t min_work) {
    (void) work; (void) min_work;
    return 1;
}
static int fastmlp_pool_workers(void) { return 0; }
static int fastmlp_pool_installed(void) { return 0; }
/* No idle threads: the loops do their work when they need it. */
static int fastmlp_idle_acquire(void) { return 0; }
static int fastmlp_idle_arm_gather(const char *src, ptrdiff_t row_bytes,
                                   const ptrdiff_t *rows, ptrdiff_t n_rows, char *dst) {
    (void) src; (void) row_bytes; (void) rows; (void) n_rows; (void) dst;
    return 0;
}
static int fastmlp_idle_arm_check(const void *data, ptrdiff_t n, int single) {
    (void) data; (void) n; (void) single;
    return 0;
}
static void fastmlp_idle_finish_gather(ptrdiff_t min_bytes) { (void) min_bytes; }
static int fastmlp_idle_finish_check(ptrdiff_t min_bytes) {
    (void) min_bytes;
    return 1;
}
static void fastmlp_idle_release(void) {}

#endif

/* [lo, hi) of part `part` of n items split into n_parts, cut at multiples
 * of `align` items (a cache line of the buffers). */
static void fastmlp_part_range(ptrdiff_t n, int part, int n_parts, ptrdiff_t align,
                               ptrdiff_t *lo, ptrdiff_t *hi) {
    ptrdiff_t blocks = (n + align - 1) / align;
    ptrdiff_t b_lo = blocks * part / n_parts, b_hi = blocks * (part + 1) / n_parts;
    *lo = b_lo * align < n ? b_lo * align : n;
    *hi = b_hi * align < n ? b_hi * align : n;
}

#endif
