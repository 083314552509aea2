/*
 * <pooldbg/pooldbg.h> -- what a program may ask of pooldbg while it runs:
 * marks in its trace and snapshots of its heap.  See pooldbg(3).
 *
 * Link with -lpooldbg.  A program run without tracing gets versions that
 * do nothing and return -1; under `pooldbg run` the tracing runtime
 * (libpooldbg-malloc.so, preloaded) supplies the real ones.
 */
#ifndef POOLDBG_POOLDBG_H
#define POOLDBG_POOLDBG_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write a mark named label (NULL: "") into the trace, between the heap
 * events made before and after the call; labels longer than 1023 bytes
 * are cut.  Returns 0, or -1 when the process is not traced.
 */
int	pooldbg_mark(const char *label);

/*
 * Classify every live block of the heap now (reachable, possibly,
 * indirectly or definitely lost) and write the result into the trace.
 * Returns the snapshot's number (1, 2, ... in each process image), or -1
 * when the process is not traced or the scan could not be made.  Not
 * async-signal-safe.
 */
int	pooldbg_snapshot(void);

#ifdef __cplusplus
}
#endif

#endif /* POOLDBG_POOLDBG_H */
