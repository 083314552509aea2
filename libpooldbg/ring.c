/*
 * libpooldbg/ring.c -- the shared-memory ring of ring.h.
 *
 * Owns the ring file's layout and the protocol on head and tail: the
 * writer stores records, then publishes them by storing head (release);
 * the reader loads head (acquire) only when it has read up to the head
 * it saw last, reads, and stores tail (release) in batches, when it wakes
 * a writer that sleeps on a full ring: the two lines of the header go
 * back and forth between the processors once a batch, not once a record.
 * Writers of one ring are serialised by the caller.
 *
 * The writer half runs inside traced processes: raw system calls and
 * fixed buffers only, never the heap, stdio or locale.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static long
futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* The futex word for tail: its low 32 bits (little-endian x86_64). */
static uint32_t *
tailword(RingHdr *h)
{
	return (uint32_t *)&h->tail;
}

/* Append the decimal n to buf at *len; no stdio. */
static void
putnum(char *buf, size_t *len, unsigned long n)
{
	char tmp[24];
	int i;

	i = 0;
	do {
		tmp[i++] = '0' + n % 10;
		n /= 10;
	} while (n > 0);
	while (i > 0)
		buf[(*len)++] = tmp[--i];
}

static int
mapring(Ring *r, int fd, size_t datasize, int prot)
{
	void *v;

	v = mmap(NULL, RING_HDRSIZE + datasize, prot, MAP_SHARED, fd, 0);
	if (v == MAP_FAILED)
		return -1;
	r->hdr = v;
	r->data = (uint8_t *)v + RING_HDRSIZE;
	r->size = datasize;
	r->fd = fd;
	return 0;
}

int
ring_create(Ring *r, const char *dir, int pid, size_t datasize)
{
	char path[PATH_MAX];
	size_t dlen, len, size;
	unsigned seq;
	int fd, e;

	for (size = 4096; size < datasize; size <<= 1)
		;
	dlen = strlen(dir);
	if (dlen + 48 > sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (seq = 0;; seq++) {
		memcpy(path, dir, dlen);
		len = dlen;
		path[len++] = '/';
		putnum(path, &len, (unsigned long)pid);
		path[len++] = '-';
		putnum(path, &len, seq);
		memcpy(path + len, ".ring", 6);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || seq > 10000)
			return -1;
	}
	if (ftruncate(fd, RING_HDRSIZE + size) < 0 ||
	    mapring(r, fd, size, PROT_READ | PROT_WRITE) < 0) {
		e = errno;
		unlink(path);
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	r->fd = -1;
	memcpy(r->hdr->magic, RING_MAGIC, 8);
	r->hdr->version = RECORD_VERSION;
	r->hdr->hdrsize = RING_HDRSIZE;
	r->hdr->size = size;
	r->hdr->pid = pid;
	r->hdr->execseq = seq;
	STORE(r->hdr->state, RING_LIVE);
	return 0;
}

/* Wait until at least need bytes are free, or the ring stops being live. */
static int
waitroom(Ring *r, uint64_t head, size_t need)
{
	RingHdr *h;
	uint64_t tail;
	struct timespec ts;

	h = r->hdr;
	for (;;) {
		tail = LOAD(h->tail);
		if (r->size - (head - tail) >= need)
			return 0;
		if (LOAD(h->state) != RING_LIVE)
			return -1;
		__atomic_fetch_add(&h->waiters, 1, __ATOMIC_SEQ_CST);
		/* the reader may have moved tail meanwhile: wait only on the value seen */
		ts.tv_sec = 0;
		ts.tv_nsec = 10 * 1000 * 1000;	/* and look again now and then */
		futex(tailword(h), FUTEX_WAIT, (uint32_t)tail, &ts);
		__atomic_fetch_sub(&h->waiters, 1, __ATOMIC_SEQ_CST);
	}
}

int
ring_write(Ring *r, const void *rec, size_t len)
{
	RingHdr *h;
	uint64_t head, off, left;
	RecHdr pad;

	h = r->hdr;
	if (h == NULL || LOAD(h->state) != RING_LIVE || len % 8 != 0 || len > r->size / 4)
		return -1;
	head = h->head;		/* only writers store it, and they are serialised */
	off = head & (r->size - 1);
	left = r->size - off;
	if (left < len) {
		/* the record would straddle the end: pad to it and start over */
		if (waitroom(r, head, left + len) < 0)
			return -1;
		pad.type = REC_PAD;
		pad.len = (uint32_t)left;
		memcpy(r->data + off, &pad, sizeof pad);
		head += left;
		off = 0;
	} else if (waitroom(r, head, len) < 0)
		return -1;
	memcpy(r->data + off, rec, len);
	STORE(h->head, head + len);
	return 0;
}

void
ring_close(Ring *r)
{
	if (r->hdr == NULL)
		return;
	STORE(r->hdr->state, RING_CLOSED);
	munmap(r->hdr, RING_HDRSIZE + r->size);
	r->hdr = NULL;
	r->data = NULL;
}

void
ring_detach(Ring *r)
{
	if (r->hdr != NULL)
		munmap(r->hdr, RING_HDRSIZE + r->size);
	r->hdr = NULL;
	r->data = NULL;
	r->fd = -1;
}

int
ring_open(Ring *r, const char *path)
{
	struct stat st;
	RingHdr h;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < RING_HDRSIZE ||
	    pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
	    memcmp(h.magic, RING_MAGIC, 8) != 0 || h.version != RECORD_VERSION ||
	    h.hdrsize != RING_HDRSIZE || h.size == 0 || (h.size & (h.size - 1)) != 0 ||
	    (uint64_t)st.st_size < RING_HDRSIZE + h.size) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	if (mapring(r, fd, h.size, PROT_READ | PROT_WRITE) < 0) {
		close(fd);
		return -1;
	}
	r->rtail = r->rhead = r->hdr->tail;
	return 0;
}

const RecHdr *
ring_peek(Ring *r)
{
	RingHdr *h;
	uint64_t head, tail, off;
	const RecHdr *rec;

	h = r->hdr;
	errno = 0;
	for (;;) {
		tail = r->rtail;
		head = r->rhead;
		if (head == tail) {
			/* the head loaded last is reached: only now look at the writer's line again */
			head = r->rhead = LOAD(h->head);
			if (head == tail)
				return NULL;
		}
		off = tail & (r->size - 1);
		rec = (const RecHdr *)(r->data + off);
		if (rec->len < sizeof *rec || rec->len % 8 != 0 || rec->len > r->size - off ||
		    rec->len > head - tail) {
			errno = EPROTO;
			return NULL;	/* a damaged ring: stop reading it */
		}
		if (rec->type != REC_PAD)
			return rec;
		ring_consume(r, rec);
	}
}

const RecHdr *
ring_at(Ring *r, uint64_t *pos)
{
	uint64_t head, off;
	const RecHdr *rec;

	head = r->rhead;
	for (;;) {
		if (*pos >= head && *pos >= (head = r->rhead = LOAD(r->hdr->head)))
			return NULL;
		off = *pos & (r->size - 1);
		rec = (const RecHdr *)(r->data + off);
		if (rec->len < sizeof *rec || rec->len % 8 != 0 || rec->len > r->size - off ||
		    rec->len > head - *pos)
			return NULL;	/* damaged: ring_peek will say so when it gets there */
		if (rec->type != REC_PAD)
			return rec;
		*pos += rec->len;
	}
}

uint64_t
ring_tail(Ring *r)
{
	return r->rtail;
}

void
ring_advance(Ring *r, const RecHdr *rec)
{
	r->rtail += rec->len;
}

void
ring_wake(Ring *r)
{
	RingHdr *h;

	h = r->hdr;
	STORE(h->tail, r->rtail);
	if (__atomic_load_n(&h->waiters, __ATOMIC_SEQ_CST) != 0)
		futex(tailword(h), FUTEX_WAKE, INT_MAX, NULL);
}

void
ring_consume(Ring *r, const RecHdr *rec)
{
	ring_advance(r, rec);
	ring_wake(r);
}

int
ring_closed(Ring *r)
{
	return LOAD(r->hdr->state) == RING_CLOSED;
}

void
ring_unmap(Ring *r)
{
	if (r->hdr != NULL)
		munmap(r->hdr, RING_HDRSIZE + r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->hdr = NULL;
	r->data = NULL;
	r->fd = -1;
}
