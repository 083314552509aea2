/*
 * tests/ring.c -- the shared-memory ring between a writer process and the
 * reader: records arrive whole and in order across wrap-arounds, a full
 * ring makes the writer wait instead of dropping, a record written before
 * the writer is SIGKILLed is still read, a closed ring says so, and a file
 * that is not a ring is refused.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "tap.h"

static char dir[] = "/tmp/pooldbg-ring-XXXXXX";

/* A RecAlloc-shaped record of len bytes whose body says its sequence number. */
static size_t
mkrec(uint8_t *buf, uint64_t seq)
{
	RecHdr *h;
	size_t len, i;

	len = REC_ALIGN(sizeof(RecHdr) + 8 + seq % 300);
	h = (RecHdr *)buf;
	h->type = REC_ALLOC;
	h->len = (uint32_t)len;
	memcpy(buf + sizeof *h, &seq, 8);
	for (i = sizeof *h + 8; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	return len;
}

static int
checkrec(const RecHdr *h, uint64_t want)
{
	uint8_t buf[512];
	size_t len;

	len = mkrec(buf, want);
	return h->len == len && memcmp(h, buf, len) == 0;
}

/* Find the one ring file of pid in dir and open it. */
static int
openpid(Ring *r, int pid)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%d-0.ring", dir, pid);
	return ring_open(r, path);
}

static void
writer(uint64_t n, size_t size, int die)
{
	uint8_t buf[512];
	Ring r;
	uint64_t i;

	if (ring_create(&r, dir, getpid(), size) < 0)
		_exit(3);
	for (i = 0; i < n; i++)
		if (ring_write(&r, buf, mkrec(buf, i)) < 0)
			_exit(4);
	if (die)
		raise(SIGKILL);
	ring_close(&r);
	_exit(0);
}

static void
sleepms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

int
main(void)
{
	const RecHdr *h;
	Ring r;
	pid_t pid;
	uint64_t n, got, bad;
	int st, tries, closedseen;
	FILE *f;
	char path[256];

	if (mkdtemp(dir) == NULL)
		tap_bail("mkdtemp: %s", strerror(errno));

	/* 1. many records through a small ring: wraps and waits */
	n = 20000 * (uint64_t)tap_scale();
	pid = fork();
	if (pid == 0)
		writer(n, 4096, 0);
	for (tries = 0; openpid(&r, pid) < 0 && tries < 5000; tries++)
		sleepms(1);
	ok(tries < 5000, "the writer's ring file appears and opens");
	got = bad = 0;
	closedseen = 0;
	while (got < n) {
		h = ring_peek(&r);
		if (h == NULL) {
			if (errno == EPROTO)
				break;
			if (closedseen)
				break;
			closedseen = ring_closed(&r) && ring_peek(&r) == NULL;
			continue;
		}
		if (!checkrec(h, got))
			bad++;
		got++;
		ring_consume(&r, h);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the writer finished (status %#x)", st);
	is(got, n, "every record arrived through a 4 KiB ring (%lu of %lu)",
	    (unsigned long)got, (unsigned long)n);
	is(bad, 0, "each record whole and in order");
	ok(ring_closed(&r), "the ring says the writer closed it");
	ok(ring_peek(&r) == NULL && errno == 0, "and holds nothing more");
	ring_unmap(&r);
	snprintf(path, sizeof path, "%s/%d-0.ring", dir, pid);
	unlink(path);

	/* 2. the writer is killed: what it wrote is still there */
	pid = fork();
	if (pid == 0)
		writer(1000, 1 << 20, 1);
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the second writer was SIGKILLed");
	ok(openpid(&r, pid) == 0, "its ring opens after its death");
	got = bad = 0;
	while ((h = ring_peek(&r)) != NULL) {
		if (!checkrec(h, got))
			bad++;
		got++;
		ring_consume(&r, h);
	}
	is(got, 1000, "all 1000 records written before the kill are read (%lu)", (unsigned long)got);
	is(bad, 0, "each of them whole");
	ok(!ring_closed(&r), "the ring of a killed writer is not marked closed");
	ring_unmap(&r);
	snprintf(path, sizeof path, "%s/%d-0.ring", dir, pid);
	unlink(path);

	/* 3. a second ring of the same pid gets the next name */
	ok(ring_create(&r, dir, 4242, 4096) == 0 && r.hdr->execseq == 0, "a first ring is -0");
	{
		Ring r2;

		ok(ring_create(&r2, dir, 4242, 4096) == 0 && r2.hdr->execseq == 1,
		    "a second ring of the same pid is -1");
		ring_close(&r2);
	}
	ring_close(&r);
	ok(ring_write(&r, "", 8) < 0, "writing to a closed ring fails");
	snprintf(path, sizeof path, "%s/4242-0.ring", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/4242-1.ring", dir);
	unlink(path);

	/* 4. not a ring */
	snprintf(path, sizeof path, "%s/junk.ring", dir);
	f = fopen(path, "w");
	if (f != NULL) {
		for (n = 0; n < 2000; n++)
			fputs("not a ring ", f);
		fclose(f);
	}
	errno = 0;
	ok(ring_open(&r, path) < 0 && errno == EPROTO, "a file that is not a ring is refused (EPROTO)");
	unlink(path);
	ok(ring_open(&r, path) < 0 && errno == ENOENT, "a missing file is refused (ENOENT)");
	rmdir(dir);
	return tap_done();
}
