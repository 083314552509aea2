/*
 * libpooldbg/record.h -- the records a traced process writes into its ring
 * and the recorder reads: the wire format between the runtime and the
 * trace writer.  Fixed-size binary, native byte order (the two sides are
 * always the same machine); every record starts with a RecHdr and is padded
 * to a multiple of 8 bytes.  Strings follow the fixed part, NUL-terminated,
 * and are counted in the record's len.
 *
 * Nothing here allocates or formats; both sides include it.  Changing a
 * layout means bumping RECORD_VERSION.
 */
#ifndef POOLDBG_RECORD_H
#define POOLDBG_RECORD_H

#include <stdint.h>

#define RECORD_VERSION	3

enum {	/* RecHdr.type */
	REC_PAD		= 0,	/* filler to the end of the ring's buffer; skip */
	REC_PROC	= 1,	/* RecProc: this process, first record of every ring */
	REC_MODULE	= 2,	/* RecModule: a module loaded (or present at start) */
	REC_UNLOAD	= 3,	/* RecUnload: a module unloaded */
	REC_FRAME	= 4,	/* RecFrame: one node of the stack tree */
	REC_ALLOC	= 5,	/* RecAlloc: a block handed out */
	REC_FREE	= 6,	/* RecFree: a block given back */
	REC_REALLOC	= 7,	/* RecRealloc: a block resized (maybe moved) */
	REC_THREAD	= 8,	/* RecThread: a thread seen first, or ending */
	REC_EXIT	= 9,	/* RecExit: how the process ended; last record */
	REC_ERROR	= 10,	/* RecError: the pool reported corruption */
	REC_MARK	= 11,	/* RecMark: pooldbg_mark("label") */
	REC_SCAN	= 12,	/* RecScan: a reachability scan begins */
	REC_ARENA	= 13,	/* RecArena: one arena of the pool, as the scan found it */
	REC_LIVE	= 14,	/* RecLive: one allocated block with its class */
	REC_SCANEND	= 15,	/* RecScanEnd: the scan's totals; ends it */
	REC_ZONE	= 16,	/* RecZone: a zone created or destroyed, with its figures and name */
	REC_PRINT	= 17,	/* RecPrint: lines the pool printed (its debug flags, mallocsummary) */
	REC_NTYPES
};

enum {	/* which call made or ended a block: RecAlloc.kind, RecFree.kind, RecRealloc.kind */
	CALL_MALLOC		= 1,
	CALL_CALLOC		= 2,
	CALL_REALLOC		= 3,
	CALL_REALLOCARRAY	= 4,
	CALL_POSIX_MEMALIGN	= 5,
	CALL_ALIGNED_ALLOC	= 6,
	CALL_MEMALIGN		= 7,
	CALL_VALLOC		= 8,
	CALL_PVALLOC		= 9,
	CALL_FREE		= 10,
	CALL_NEW		= 11,	/* operator new(size_t), with nothrow and aligned variants */
	CALL_NEW_ARRAY		= 12,	/* operator new[] */
	CALL_DELETE		= 13,	/* operator delete, with sized and aligned variants */
	CALL_DELETE_ARRAY	= 14,	/* operator delete[] */
	CALL_MALLOCZ		= 15,	/* the Plan 9 calls of <pooldbg/malloc.h> */
	CALL_MALLOCALIGN	= 16,
	CALL_SMALLOC		= 17,
	CALL_ZALLOC		= 18,	/* uma_zalloc of <pooldbg/zone.h>: RecAlloc.zone names the zone */
	CALL_ZFREE		= 19,	/* uma_zfree */
	CALL_MMALLOC		= 20,	/* the calls of <pooldbg/mmalloc.h> (reserved: not recorded yet) */
	CALL_MREALLOC		= 21,
	CALL_MVALLOC		= 22,
	CALL_MFREE		= 23,
	CALL_NCALLS
};

enum {	/* RecAlloc.flags, RecFree.flags */
	CALLF_NOTHROW	= 1 << 0,	/* the nothrow variant of new/delete */
	CALLF_ALIGNED	= 1 << 1,	/* the std::align_val_t variant */
	CALLF_SIZED	= 1 << 2,	/* sized delete: RecFree.size is what the program said */
};

enum {	/* RecExit.how */
	EXIT_NORMAL	= 1,	/* exit(), return from main; status = exit code */
	EXIT_UNDERSCORE	= 2,	/* _exit() / _Exit(); status = exit code */
	EXIT_SIGNAL	= 3,	/* a fatal signal (abort too); status = signal number */
	EXIT_EXEC	= 4,	/* replaced by execve(); status 0 */
};

typedef struct RecHdr RecHdr;
struct RecHdr {
	uint32_t type;		/* REC_* */
	uint32_t len;		/* whole record in bytes, header included, multiple of 8 */
};

/* First record of every ring; strings: exe path, then the command line with NULs between words. */
typedef struct RecProc RecProc;
struct RecProc {
	RecHdr	h;
	int32_t	pid;
	int32_t	ppid;		/* the parent process (the tracer's pid for the first) */
	uint64_t time;		/* CLOCK_REALTIME ns at start of tracing in this image */
	uint32_t execseq;	/* 0 for the first image of this pid, +1 per exec */
	uint32_t forked;	/* 1 if this is a fork child without exec (inherits the parent's blocks) */
	uint32_t exelen;	/* bytes of exe path, NUL included */
	uint32_t cmdlen;	/* bytes of command line, final NUL included */
	/* char exe[exelen]; char cmdline[cmdlen]; */
};

/* A module (executable, shared library, vdso) mapped in; string: its path ("" for the main program's path is never used: the real path is given). */
typedef struct RecModule RecModule;
struct RecModule {
	RecHdr	h;
	uint64_t time;		/* CLOCK_MONOTONIC ns */
	uint64_t base;		/* load bias (dlpi_addr): file vaddr + base = runtime address */
	uint64_t lo;		/* lowest runtime address of its PT_LOAD segments */
	uint64_t hi;		/* highest runtime address + 1 */
	uint32_t buildidlen;	/* bytes of GNU build-id (0 if none) */
	uint32_t pathlen;	/* bytes of path, NUL included */
	/* uint8_t buildid[buildidlen]; char path[pathlen]; padded to 8 */
};

typedef struct RecUnload RecUnload;
struct RecUnload {
	RecHdr	h;
	uint64_t time;
	uint64_t base;		/* as in its RecModule */
	uint64_t lo;
};

/* A node of the stack tree: the stack id is the id of its innermost frame. */
typedef struct RecFrame RecFrame;
struct RecFrame {
	RecHdr	h;
	uint32_t id;		/* 1, 2, 3, ... in the order written; 0 is the root (empty stack) */
	uint32_t parent;	/* the caller's frame node; 0 for an outermost frame */
	uint64_t pc;		/* return address as unwound (not adjusted) */
};

typedef struct RecAlloc RecAlloc;
struct RecAlloc {
	RecHdr	h;
	uint64_t time;		/* CLOCK_MONOTONIC ns */
	uint64_t ptr;		/* what the program got (0: the call failed) */
	uint64_t size;		/* what it asked for (calloc: n * size) */
	uint64_t align;		/* requested alignment, 0 if none */
	uint32_t stack;		/* RecFrame id of the innermost frame */
	int32_t	tid;
	uint16_t kind;		/* CALL_* */
	uint16_t flags;		/* CALLF_* */
	uint32_t zone;		/* RecZone.id of the zone the item came from, 0 for none */
};

typedef struct RecFree RecFree;
struct RecFree {
	RecHdr	h;
	uint64_t time;
	uint64_t ptr;		/* never 0: free(NULL) is not recorded */
	uint64_t size;		/* sized delete's size, else 0 */
	uint32_t stack;
	int32_t	tid;
	uint16_t kind;		/* CALL_* */
	uint16_t flags;
	uint32_t zone;		/* RecZone.id of the zone the item goes back to, 0 for none */
};

typedef struct RecRealloc RecRealloc;
struct RecRealloc {
	RecHdr	h;
	uint64_t time;
	uint64_t oldptr;	/* never 0 (realloc(NULL, n) is a RecAlloc of kind CALL_REALLOC) */
	uint64_t newptr;	/* 0 when it failed (old block kept) or when size was 0 (old block freed) */
	uint64_t size;
	uint32_t stack;
	int32_t	tid;
	uint16_t kind;		/* CALL_REALLOC or CALL_REALLOCARRAY */
	uint16_t flags;
	uint32_t pad;
};

typedef struct RecThread RecThread;
struct RecThread {
	RecHdr	h;
	uint64_t time;
	int32_t	tid;
	uint32_t ending;	/* 0: first seen; 1: thread exited */
};

typedef struct RecExit RecExit;
struct RecExit {
	RecHdr	h;
	uint64_t time;
	uint32_t how;		/* EXIT_* */
	int32_t	status;
};

enum {	/* RecError.kind: the names errors.kind stores (pooldbg-trace(5)) */
	ERR_CORRUPTION		= 0,	/* damage that fits no other kind */
	ERR_OVERFLOW		= 1,	/* guard bytes or tail past the end changed */
	ERR_UNDERFLOW		= 2,	/* header (or tag words) before the start changed */
	ERR_DOUBLE_FREE		= 3,	/* a block freed again */
	ERR_INVALID_FREE	= 4,	/* a pointer that is no block: stack, global, interior, never allocated */
	ERR_WRITE_AFTER_FREE	= 5,	/* a freed block's fill changed */
	ERR_MISMATCHED_FREE	= 6,	/* new/free, new[]/delete, malloc/delete, realloc of new, ... */
	ERR_REALLOC_FREED	= 7,	/* realloc (or msize) of a freed block */
	ERR_USE_AFTER_FREE	= 8,	/* a fault on a freed guarded block */
	ERR_NOTICE		= 9,	/* POOL_TOLERANCE's one NUL past the end: not an error */
	ERR_NKINDS
};

enum {	/* RecError.flags */
	ERRF_FATAL	= 1 << 0,	/* the program is stopped after this report */
	ERRF_FREED	= 1 << 1,	/* the block had been freed (the recorder shows its free stack) */
	ERRF_GUARD	= 1 << 2,	/* found by a guard page fault */
};

enum { ERR_DUMPMAX = 64 };	/* RecError.dump bytes */

/*
 * A heap error found by the runtime, at the moment it was found; string:
 * the pool's report when the pool found it (dump lines, then the panic),
 * else a line of the runtime's.
 */
typedef struct RecError RecError;
struct RecError {
	RecHdr	h;
	uint64_t time;
	uint64_t ptr;		/* the pointer the operation was given (or the fault address); 0 if none */
	uint64_t block;		/* the block concerned: the pointer the program got for it; 0 if none */
	uint64_t size;		/* its size as asked for; 0 if unknown */
	int64_t	offset;		/* the first damaged byte (or ptr), from block; negative before it */
	uint64_t dumpaddr;	/* the address of dump[0] */
	uint32_t stack;		/* the operation that found it */
	int32_t	tid;
	uint16_t kind;		/* ERR_* */
	uint16_t flags;		/* ERRF_* */
	uint16_t call;		/* CALL_* of the operation, 0 if none (a check, a fault) */
	uint16_t dumplen;	/* bytes of dump used */
	uint8_t	dump[ERR_DUMPMAX];	/* the bytes around the damage */
	uint32_t msglen;	/* bytes of message, NUL included */
	uint32_t pad;
	/* char msg[msglen]; */
};

/* A named point in time; string: the label. */
typedef struct RecMark RecMark;
struct RecMark {
	RecHdr	h;
	uint64_t time;
	int32_t	tid;
	uint32_t labellen;	/* bytes of label, NUL included */
	/* char label[labellen]; */
};

enum {	/* RecScan.why */
	SCAN_EXIT	= 1,	/* the image is ending (exit, _exit, a fatal signal) */
	SCAN_SNAPSHOT	= 2,	/* pooldbg_snapshot() or `pooldbg snapshot PID` */
};

enum {	/* RecLive.cls: a block's leak class, as memcheck names them */
	CLASS_REACHABLE	= 1,	/* a chain of start pointers from a root */
	CLASS_POSSIBLE	= 2,	/* reached from a root, but only through an interior pointer */
	CLASS_INDIRECT	= 3,	/* not reached from a root; pointed to by a lost block */
	CLASS_DEFINITE	= 4,	/* not reached from a root or from any other lost block */
};

/*
 * A scan: RecScan, then one RecArena per arena and one RecLive per
 * allocated block of the pool (in address order), then RecScanEnd.
 * Nothing else of this process comes between them.  A fork child in
 * leaks mode without sampling, whose live table knows every block it
 * made, sends no RecLive for the blocks it inherited (they are still
 * scanned, and classify the rest).
 */
typedef struct RecScan RecScan;
struct RecScan {
	RecHdr	h;
	uint64_t time;		/* when the threads were stopped */
	uint32_t why;		/* SCAN_* */
	uint32_t snapshot;	/* 0 for SCAN_EXIT, else 1, 2, ... per process image */
	int32_t	tid;		/* the thread that ran the scan */
	uint32_t pad;
};

typedef struct RecArena RecArena;
struct RecArena {
	RecHdr	h;
	uint64_t base;		/* first byte of the arena (its header) */
	uint64_t size;		/* whole arena, header and arena tail included */
};

typedef struct RecLive RecLive;
struct RecLive {
	RecHdr	h;
	uint64_t ptr;		/* the pointer the program holds */
	uint64_t size;		/* bytes it asked for */
	uint64_t block;		/* first byte of the pool block (its header) */
	uint64_t bsize;		/* whole pool block: header, tags, data, slack, tail */
	uint64_t tag;		/* the block's malloc tag (the allocating caller's pc) */
	uint8_t	cls;		/* CLASS_* */
	uint8_t	previewlen;	/* bytes of preview used: min(size, 32) */
	uint8_t	pad[6];
	uint8_t	preview[32];	/* the block's first bytes */
	/*
	 * What made the block, as the runtime's live table knows it (leaks
	 * mode, sampling); a reader takes these only when h.len reaches
	 * sizeof(RecLive), and only with LIVEF_KNOWN in flags.
	 */
	uint64_t seq;		/* ordinal of its allocation in this image, from 1 */
	uint32_t stack;		/* RecFrame id of the allocating stack */
	uint16_t call;		/* CALL_* that made it */
	uint16_t flags;		/* LIVEF_* */
};

enum {	/* RecLive.flags */
	LIVEF_KNOWN	= 1 << 0,	/* seq, stack and call are the live table's */
};

typedef struct RecScanEnd RecScanEnd;
struct RecScanEnd {
	RecHdr	h;
	uint64_t time;		/* when the threads were let go again */
	uint64_t roots;		/* bytes of root memory scanned */
	uint32_t threads;	/* threads of the process, the scanning one included */
	uint32_t stopped;	/* of them, those that answered the stop signal */
	uint64_t blocks[5];	/* RecLives sent of each class, by CLASS_* (index 0 unused) */
	uint64_t bytes[5];	/* their bytes (the sizes asked for) */
};

enum {	/* RecZone.what */
	ZONE_CREATE	= 1,	/* uma_zcreate: figures all 0 but size */
	ZONE_DESTROY	= 2,	/* uma_zdestroy: its last figures (used > 0: items leaked) */
};

/* A zone of <pooldbg/zone.h>; string: its name.  Ids are 1, 2, ... per ring. */
typedef struct RecZone RecZone;
struct RecZone {
	RecHdr	h;
	uint64_t time;
	uint64_t addr;		/* the zone's handle in the process */
	uint32_t id;		/* what RecAlloc.zone and RecFree.zone name */
	uint32_t what;		/* ZONE_* */
	uint64_t size;		/* item size asked for */
	uint64_t stride;	/* bytes per item in a slab (0 at creation) */
	uint64_t used;		/* items held by callers */
	uint64_t free;		/* items free in caches and slabs */
	uint64_t requests;	/* uma_zalloc that returned an item */
	uint64_t failures;	/* uma_zalloc that returned NULL */
	uint64_t frees;		/* uma_zfree that gave one back */
	uint64_t errors;	/* debugging reports */
	int32_t	tid;
	uint32_t namelen;	/* bytes of name, NUL included */
	/* char name[namelen]; padded to 8 */
};

/*
 * Lines of text the pool printed (POOL_VERBOSITY, POOL_DEBUGGING,
 * POOL_LOGGING, mallocsummary), for the recorder to print: never on the
 * program's own descriptors.  Whole lines, each ending in a newline.
 */
typedef struct RecPrint RecPrint;
struct RecPrint {
	RecHdr	h;
	uint32_t textlen;	/* bytes of text, no NUL */
	int32_t	tid;
	/* char text[textlen]; padded to 8 */
};

#define REC_ALIGN(n)	(((n) + 7u) & ~7u)

#endif /* POOLDBG_RECORD_H */
