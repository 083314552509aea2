/*
 * tests/tap.h -- a small TAP producer for the test programs.
 *
 * Each test program prints a plan and one "ok N - name" line per check,
 * which automake's tap-driver.sh reads.  Never allocates through the
 * allocator under test: everything goes through fixed buffers and write(2).
 */
#ifndef POOLDBG_TAP_H
#define POOLDBG_TAP_H

#include <stddef.h>

/* Record one check; returns cond so callers can branch on it. */
int	tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A comment line ("# ...") for context. */
void	tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skip n checks with a reason. */
void	tap_skip(int n, const char *why);
/* Print the plan (after the fact) and return the exit status for main. */
int	tap_done(void);
/* Bail out of the whole program: "Bail out! ..." and exit 1. */
void	tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* POOLDBG_TEST_SCALE from the environment (>= 1): stress work is multiplied by it. */
long	tap_scale(void);

#define ok(cond, ...)	tap_ok(!!(cond), __VA_ARGS__)
#define is(a, b, ...)	tap_ok((a) == (b), __VA_ARGS__)

#endif /* POOLDBG_TAP_H */
