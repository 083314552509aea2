/*
 * tests/tap.c -- TAP output for the test programs (see tap.h).  Formats
 * into a stack buffer and writes with write(2), so it is safe to use while
 * the allocator under test is broken or replaced.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static int ntests;
static int nfailed;

static void
tap_write(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	int n, m;

	n = snprintf(buf, sizeof buf, "%s", prefix);
	m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) < 0)
		_exit(99);
}

int
tap_ok(int cond, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	snprintf(prefix, sizeof prefix, "%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	tap_write(prefix, fmt, ap);
	va_end(ap);
	return cond;
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_write("# ", fmt, ap);
	va_end(ap);
}

void
tap_skip(int n, const char *why)
{
	char buf[512];
	int len;

	while (n-- > 0) {
		ntests++;
		len = snprintf(buf, sizeof buf, "ok %d # SKIP %s\n", ntests, why);
		if (write(1, buf, len) < 0)
			_exit(99);
	}
}

int
tap_done(void)
{
	char buf[64];
	int len;

	len = snprintf(buf, sizeof buf, "1..%d\n", ntests);
	if (write(1, buf, len) < 0)
		_exit(99);
	return nfailed ? 1 : 0;
}

void
tap_bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_write("Bail out! ", fmt, ap);
	va_end(ap);
	exit(1);
}

long
tap_scale(void)
{
	const char *s;
	long n;

	s = getenv("POOLDBG_TEST_SCALE");
	if (s == NULL || (n = strtol(s, NULL, 10)) < 1)
		return 1;
	return n;
}
