/*
 * libpooldbg/runtime.h -- what the files of the tracing runtime share (the
 * traced side of `pooldbg run`, inside libpooldbg-malloc.so).  Nothing here
 * is installed or exported: the library is built with -fvisibility=hidden
 * and only the allocator entry points, the interposed exit, exec and
 * dlclose calls, and the zones' trace hooks (zone-runtime.c) carry EXPORT.
 *
 * Glossary:
 *   session   the directory named by POOLDBG_SESSION where rings live
 *   ring      this process image's shared-memory ring (ring.h)
 *   guard     a per-thread flag: set while the runtime itself runs, so an
 *             allocation made by the runtime or by libunwind is served by
 *             the pool but never recorded
 *   trie      the stack tree: (parent id, pc) -> id, in mmap'd memory
 *   pending   events seen before the runtime's constructor ran, kept in a
 *             fixed buffer with the caller's PC as a one-frame stack
 *   scan      the reachability scan: every block of the default pool
 *             classified as memcheck would, other threads stopped
 *   snapshot  a scan made while the process runs (pooldbg_snapshot, or
 *             the snapshot signal from `pooldbg snapshot PID`)
 */
#ifndef POOLDBG_RUNTIME_H
#define POOLDBG_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "ring.h"

enum {	/* rt_state */
	RT_UNINIT	= 0,	/* the constructor has not run: events go to pending */
	RT_OFF		= 1,	/* no session: serve, record nothing */
	RT_LIVE		= 2,	/* recording into the ring */
	RT_DONE		= 3,	/* the ring is closed (exit, exec): record nothing */
};

enum {
	RT_MAXDEPTH	= 256,	/* POOLDBG_DEPTH is clamped to this */
	RT_DEFDEPTH	= 64,
};

#define RT_TLS	__attribute__((tls_model("initial-exec")))

/* ---- runtime.c ---------------------------------------------------------- */

/* RT_*; read by every shim, without a lock. */
extern int rt_state;
/* Nonzero while this thread is inside the runtime (see the glossary). */
extern __thread int rt_inside RT_TLS;

/*
 * Where a shim was called from: the return address its call pushed, the
 * stack pointer once it returns (the shim's CFA) and the caller's rbp
 * then.  The unwinder starts its walk there instead of going through the
 * runtime's own frames first; with sp 0 it starts where it is and leaves
 * the runtime's frames out.  RT_FROM() is the calling shim's (on x86-64 it
 * gives the shim a frame pointer); RT_FROMPC(pc) knows the pc only.
 */
typedef struct RtFrom RtFrom;
struct RtFrom {
	uintptr_t pc;
	uintptr_t sp;		/* 0: not known */
	uintptr_t bp;
};
#if defined(__x86_64__)
#define RT_FP()		((const uintptr_t *)__builtin_frame_address(0))	/* saved rbp, return address */
#define RT_FROM()	(&(const RtFrom){ RT_FP()[1], (uintptr_t)(RT_FP() + 2), RT_FP()[0] })
#else
#define RT_FROM()	RT_FROMPC((uintptr_t)__builtin_return_address(0))
#endif
#define RT_FROMPC(pc)	(&(const RtFrom){ (pc), 0, 0 })

/*
 * The events, called by the shims after the pool has answered (rt_free:
 * before the block is given back, so that its next owner is recorded
 * after it).  from is where the shim was called from (its pc is the
 * stack of events before initialisation).  Each
 * records nothing when tracing is off, the ring is closed, or the thread
 * is inside the runtime; each keeps errno as it was.
 */
void	rt_alloc(unsigned kind, unsigned flags, const void *ptr, size_t size, size_t align,
	    const RtFrom *from);
void	rt_free(unsigned kind, unsigned flags, const void *ptr, size_t size, const RtFrom *from);
/*
 * Reallocation is recorded around the call itself: fn(ptr, n, size) runs
 * under the ring lock, so no other thread can be handed the old block and
 * record it before this reallocation is recorded.  Returns what fn did,
 * with its errno.
 */
typedef void *ReallocFn(void *ptr, size_t n, size_t size);
void	*rt_realloc(unsigned kind, ReallocFn *fn, void *ptr, size_t n, size_t size,
	    const RtFrom *from);

/* CLOCK_MONOTONIC in ns, no system call; any thread, any time, a signal handler too (runtime-clock.c). */
uint64_t	rt_now(void);
/* A size from the environment: digits, then k, m or g if any; -1 if it is none.  Heap-free. */
long	rt_size(const char *s);
/* The caller's thread id, cached per thread; 0 before it is known. */
int	rt_gettid(void);

/*
 * Ring lock.  rt_lock blocks; it returns 1 when this thread already held
 * it (a signal arrived inside the runtime), and then rt_unlock must be
 * given that 1 so the lock stays with the interrupted code.
 */
int	rt_lock(void);
void	rt_unlock(int nested);
/* Whether the calling thread holds the ring lock.  Signal-safe. */
int	rt_holdslock(void);
/* Take the ring lock only if no thread holds it, this one included: 0, or -1.  Signal-safe. */
int	rt_trylock(void);
/* Append one record (lock held); the ring is closed on a write error. */
void	rt_putl(const void *rec, size_t len);
/* Whether this process owns the ring (not a vfork or raw clone child). */
int	rt_ownerl(void);

/*
 * Write REC_EXIT(how, status) and close the ring, once per image; later
 * calls and calls from a process that does not own the ring do nothing.
 * Takes the lock.
 */
void	rt_finish(unsigned how, int status);
/* After fork in the child (forked 1) or after a failed exec (0): start a new ring. */
void	rt_reopen(int forked);
/* The stack trie's mapping, [*lo, *hi); 0, or -1 when there is none.  Lock held. */
int	rt_trierangel(uintptr_t *lo, uintptr_t *hi);
/* Snapshots this ring has recorded, as its header says (RingHdr.snapshots).  Lock held. */
uint32_t	rt_snapshotsl(void);
/* Store the count of snapshots in the ring's header, for `pooldbg snapshot`.  Lock held. */
void	rt_setsnapshotsl(uint32_t n);

/* ---- zone-runtime.c ----------------------------------------------------- */

/* The zone id rt_alloc and rt_free put into their record (0 outside a zone call). */
extern __thread uint32_t rt_zone RT_TLS;
/* The calling thread's stack for an error report (empty if it never unwound before: libunwind may allocate). */
int	rt_unwind(uintptr_t *pcs);
/* The stack id of pcs[0..n-1], innermost first; ring lock held. */
uint32_t	rt_internl(const uintptr_t *pcs, int n);

/* ---- runtime-error.c ---------------------------------------------------- */

/*
 * A point an operation of the program goes back to when the runtime has
 * reported an error and the heap is still sound: set with ERR_TRY in
 * the shim's own frame, given up with err_pop.  After the jump
 * ERR_TRY is nonzero, the pool is unlocked and t->kind says what was
 * reported.
 */
typedef struct ErrTry ErrTry;
struct ErrTry {
	void	*jb[5];		/* __builtin_setjmp's */
	ErrTry	*prev;
	int	inside;		/* rt_inside when set */
	unsigned call;		/* CALL_* of the operation, 0 for none */
	const void *ptr;	/* the pointer it was given */
	int	kind;		/* after the jump: the ERR_* reported */
};
extern __thread ErrTry *err_try RT_TLS;

#define ERR_TRY(t, c, p)	(err_push((t), (c), (p)), __builtin_setjmp((t)->jb))

static inline void
err_push(ErrTry *t, unsigned call, const void *ptr)
{
	t->prev = err_try;
	t->inside = rt_inside;
	t->call = call;
	t->ptr = ptr;
	t->kind = -1;
	err_try = t;
}

static inline void
err_pop(ErrTry *t)
{
	err_try = t->prev;
}

/* Take over the default pool's print and panic; read POOLDBG_ABORT_ON_ERROR.  Once, by the constructor. */
void	err_init(void);
/*
 * Take over the default pool's print (and unlock, to send what it
 * printed) before the constructor has run, so that the lines of its debug
 * flags wait for the ring instead of going to the program's fd 2.  By the
 * first calls of a process; cheap after the first.
 */
void	err_early(void);
/* Send the lines the pool printed for this thread to the recorder (fd 2 when there is no ring).  Pool not locked. */
void	err_flushprints(void);
/*
 * Report an error the runtime found itself (not through the pool):
 * REC_ERROR with the caller's stack, the bytes of [lo, hi) around dumpat
 * (readable: the caller vouches), msg one line.  Returns when the program
 * goes on; stops it (abort) with fatal or --abort-on-error.  No lock held.
 */
void	err_raise(int kind, unsigned call, const void *ptr, const void *block, size_t size,
	    long offset, unsigned flags, const void *dumpat, uintptr_t lo, uintptr_t hi,
	    const char *msg, int fatal);
/* The faulting instruction of a fault being reported by this thread (0: none): its stack starts there. */
void	err_setfaultpc(uintptr_t pc);
/* Whether --abort-on-error was asked for. */
int	err_abortonerror(void);
/* Put the dead block b aside for good: the quarantine never recycles it. */
void	err_setaside(const void *b);
int	err_isaside(const void *b);

/* ---- runtime-quarantine.c ----------------------------------------------- */

/* Read POOLDBG_QUARANTINE; once, when tracing starts. */
void	quarantine_init(void);
/*
 * free/delete of ptr for a shim (kind CALL_*), tracing live: records it,
 * checks it (a freed block, no block, a damaged one, the wrong family),
 * then frees it into the quarantine or the pool.  Keeps errno.
 */
void	rt_release(unsigned kind, unsigned flags, void *ptr, size_t size, const RtFrom *from);
/* An allocation for a shim (kind CALL_*, n*size bytes, align 0 if none), guarded pages or the pool; tags not set. */
void	*rt_allocate(unsigned kind, size_t n, size_t size, size_t align);
/* realloc/reallocarray for a shim with the checks of rt_release; records it. */
void	*rt_reallocate(unsigned kind, void *ptr, size_t n, size_t size, const RtFrom *from);
/* At exit, before the scan: check the whole pool, the quarantine's blocks where they lie. */
void	quarantine_atexit(void);
/*
 * mallinfo2's figures, tracing live: those of the pool (pooldbg_mallinfo2)
 * with the dead blocks in the quarantine counted free, as the program
 * freed them, and the guarded blocks as glibc's mapped chunks (hblks,
 * hblkhd); their figures, the most there were included, into *g.
 */
struct mallinfo2;
typedef struct GuardFigures GuardFigures;
struct mallinfo2 rt_mallinfo2(GuardFigures *g);

/* ---- runtime-guard.c ---------------------------------------------------- */

/* Read POOLDBG_GUARD and POOLDBG_GUARD_SAMPLE, catch SIGSEGV/SIGBUS if asked; after exit_init. */
void	guard_init(void);
/* Whether any allocation may be guarded. */
extern int guard_on;
/* Whether an allocation of n bytes gets guard pages. */
int	guard_wanted(size_t n);
/* A guarded block of n bytes aligned to align for a call of kind (CALL_*); NULL with ENOMEM. */
void	*guard_alloc(unsigned kind, size_t n, size_t align);
/* Whether ptr is a guarded block (live or freed); its size into *size. */
int	guard_owns(const void *ptr, size_t *size);
/* Free the guarded block ptr for a call of kind: checked, its pages made inaccessible. */
void	guard_free(unsigned kind, void *ptr);
/* The guarded blocks not freed yet, and the bytes of their header and data pages. */
struct GuardFigures {
	size_t	blocks, bytes;		/* now */
	size_t	maxblocks, maxbytes;	/* the most so far */
};
void	guard_figures(GuardFigures *f);

/* ---- runtime-unwind.c --------------------------------------------------- */

/* Load libunwind privately; 0, or -1 (then stacks are empty). */
int	unwind_init(void);
/*
 * The calling thread's return addresses, innermost first, the runtime's
 * own frames left out: from from's frame when it is known (from may be NULL).
 */
int	unwind_stack(uintptr_t *pcs, int max, const RtFrom *from);
/* Whether pc lies in libpooldbg-malloc.so itself. */
int	unwind_isself(uintptr_t pc);
/*
 * The k-th object the runtime keeps out of the scan's roots (0: this
 * library, 1: libunwind, when loaded): its PT_LOAD span [*lo, *hi).  0, or
 * -1 past the last.  No lock, no loader call: the spans are found by
 * unwind_init.
 */
int	unwind_private(int k, uintptr_t *lo, uintptr_t *hi);
/* The dynamic linker's PT_LOAD span, found by unwind_init; 0, or -1 if unknown.  No lock. */
int	unwind_loader(uintptr_t *lo, uintptr_t *hi);

/* ---- runtime-modules.c -------------------------------------------------- */

/* Forget every module (a new ring needs them all again). */
void	modules_reset(void);
/* Compare the loaded objects with the table: REC_MODULE for new, REC_UNLOAD for gone.  Lock held. */
void	modules_scanl(void);
/* Whether pc lies in a known module; if not, rescan when objects were added since.  Lock held. */
void	modules_notepcl(uintptr_t pc);
/* The bounds of the module that holds addr (through dl_iterate_phdr); 0 or -1. */
int	modules_bounds(const void *addr, uintptr_t *lo, uintptr_t *hi);

/* ---- runtime-exit.c ----------------------------------------------------- */

/* Signal handlers, fork handlers and the exit hook; called once by the constructor. */
void	exit_init(void);
/* Look up the C library's exec calls and dlclose (RTLD_NEXT), once; early, never in a vfork child. */
void	exit_resolve(void);

/* ---- runtime-stop.c ----------------------------------------------------- */

typedef struct StopSet StopSet;
struct StopSet {
	int	threads;	/* threads of the process, the caller included */
	int	stopped;	/* of the others, those that answered the stop signal */
};

/*
 * Stop every other thread of the process with the stop signal
 * (SIGRTMAX-2), owned for the duration.  Ring and pool locks held; 0, or -1
 * when the signal could not be taken (nothing stopped).
 */
int	stop_others(StopSet *s);
/* Where the i-th stopped thread's stack is in use (handler local, interrupted sp less the red zone); 0 or -1. */
int	stop_thread(int i, uintptr_t *lsp, uintptr_t *isp);
/* Let them go and give the signal back its old action. */
void	stop_release(StopSet *s);
/* The stack pointer saved in a signal handler's context; 0 where unknown. */
uintptr_t	stop_ctxsp(void *uc);

/* ---- runtime-scan.c ----------------------------------------------------- */

/*
 * Classify every block of the default pool and write REC_SCAN, REC_ARENA,
 * REC_LIVE and REC_SCANEND (why SCAN_*, snapshot 0 at exit; isp the
 * interrupted stack pointer inside a signal handler, else 0).  Ring lock
 * then pool lock held, the ring owned.  0, or -1 with nothing written.
 */
int	scan_runl(unsigned why, uint32_t snapshot, uintptr_t isp);

/* ---- runtime-live.c ----------------------------------------------------- */

/*
 * Zeroed memory for a table of len bytes; one of 2 MiB or more is aligned
 * to 2 MiB and marked for huge pages.  NULL when no memory; munmap frees.
 */
void	*rt_tablemap(size_t len);

/* The live-block table is kept (leaks mode or sampling); leaks mode; the sample rate in bytes (0: none). */
extern int live_on;
extern int live_leaks;
extern double live_rate;

/*
 * The marks of a block followed in its tag words: the malloc tag is
 * LIVE_MARK | [LIVE_LOADER] | call << 32 | stack id, the realloc tag
 * LIVE_MARK | ordinal << 2 | family (0 malloc, 1 new, 2 new[]).  No pc and no family tag has
 * bits 56..63 set, so a marked word is never taken for a tag, nor a tag
 * for a mark.
 */
#define LIVE_MARK	((uintptr_t)0x5A << 56)
#define LIVE_LOADER	((uintptr_t)1 << 40)	/* in a marked malloc tag: the dynamic linker called */
#define LIVE_MMASK	(~(uintptr_t)0 << 41)	/* the malloc tag's bits that must be the mark's */
#define LIVE_RMASK	(~(uintptr_t)0 << 56)	/* the realloc tag's */
#define LIVE_FAMILY	((uintptr_t)3)		/* the realloc tag's bits that hold the family */

/* Whether the tag words in front of ptr (present and readable) hold leaks mode's marks. */
static inline int
live_tagged(const void *ptr)
{
	const uintptr_t *u = ptr;

	return (u[-2] & LIVE_MMASK) == LIVE_MARK && (u[-1] & LIVE_RMASK) == LIVE_MARK &&
	    (u[-1] & LIVE_FAMILY) != LIVE_FAMILY;
}

/*
 * Whether ptr is a block leaks mode follows, which keeps a followed block's
 * stack, call and ordinal in its tag words (runtime-live.c); in every other
 * mode the words are the tag calls' own.
 */
static inline int
live_marked(const void *ptr)
{
	return live_leaks && live_tagged(ptr);
}

/* Read POOLDBG_MODE, POOLDBG_SAMPLE, POOLDBG_SAMPLE_SEED; once, by the constructor. */
void	live_init(void);
/* Whether an allocation of size bytes is sampled (1 without sampling); per thread, no lock. */
int	live_sample(size_t size);
/* Follow ptr with its stack id, CALL_* and size (replacing what was there).  No lock held. */
void	live_add(const void *ptr, uint32_t stack, unsigned call, size_t size);
/* Leaks mode: ptr, reallocated in place and not sampled, is followed no more.  No lock held. */
void	live_forget(void *ptr);
/* Stop following ptr: 1 if it was followed, with its stack, call and size (each may be NULL).  No lock held. */
int	live_del(const void *ptr, uint32_t *stack, unsigned *call, uint64_t *size);
/* For a scan (others stopped, no lock): 1 with what the table holds for ptr, or 0. */
int	live_get(uintptr_t ptr, uint32_t *stack, unsigned *call, uint64_t *seq);
/* Forget every block (a fork child). */
void	live_reset(void);
/*
 * Whether the table knows every block this image made, so that a block it
 * does not know was inherited: leaks mode without sampling, in a fork
 * child.
 */
int	live_knowsown(void);

/* ---- runtime-snap.c ----------------------------------------------------- */

/* Nonzero when a snapshot was asked for by signal and waits for the next heap event. */
extern _Atomic int snap_want;

/* Read POOLDBG_SCAN, install the snapshot signal; once, when tracing starts. */
void	snap_init(void);
/* The scan at exit (exit, _exit), unless POOLDBG_SCAN=0; takes both locks. */
void	snap_atexit(void);
/* The scan on a fatal signal: only if both locks are free (trylock); uc the handler's context. */
void	snap_onsignal(void *uc);
/* Take the snapshot snap_want asks for; no lock held, called after a heap event. */
void	snap_honour(void);

#endif /* POOLDBG_RUNTIME_H */
