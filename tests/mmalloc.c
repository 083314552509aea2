/*
 * tests/mmalloc.c -- mapped heaps (<pooldbg/mmalloc.h>): every call on an
 * anonymous heap; a heap file written by one process and attached by
 * another in turn, at the same address with its data and keys; files
 * refused (foreign, damaged, truncated, another version, read-only, in
 * use, address taken) without being written; and mmalloc_walkfile on a
 * clean file, a smashed block and a file that is no heap.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pooldbg/mmalloc.h>
#include <pooldbg/pool.h>

#include "tap.h"

typedef struct Node Node;
struct Node {
	Node	*next;
	long	value;
	char	text[24];
};

static char path[256], copy[256];

static void
testanon(void)
{
	void *md, *p, *q;
	char *c;
	int i, good;

	md = mmalloc_attach(-1, NULL);
	ok(md != NULL, "anonymous heap attached");
	p = mmalloc(md, 100);
	memset(p, 'a', 100);
	q = mrealloc(md, p, 5000);
	c = q;
	good = q != NULL;
	for (i = 0; i < 100; i++)
		if (c[i] != 'a')
			good = 0;
	ok(good, "mrealloc keeps the contents");
	p = mvalloc(md, 10);
	ok(p != NULL && ((uintptr_t)p & (getpagesize() - 1)) == 0, "mvalloc is page aligned");
	ok(mmalloc_setkey(md, 3, q) == 0 && mmalloc_getkey(md, 3) == q, "setkey/getkey");
	errno = 0;
	ok(mmalloc_setkey(md, 16, q) == -1 && errno == EINVAL && mmalloc_getkey(md, 16) == NULL &&
	    mmalloc_getkey(md, -1) == NULL, "key 16 and -1 are out of range");
	ok(mmalloc_errno(md) == 0, "mmalloc_errno 0 after success");
	poolcheck(mmalloc_pool(md));
	ok(1, "poolcheck passes on the heap's pool");
	mfree(md, p);
	mfree(md, q);
	mfree(md, NULL);
	ok(mmalloc_pool(md)->curalloc == 0, "everything freed");
	errno = 0;
	p = mmalloc(md, (size_t)1 << 40);
	ok(p == NULL && errno == ENOMEM && mmalloc_errno(md) == 0,
	    "past the heap's reserve: NULL, ENOMEM; mmalloc_errno 0 (no system call failed)");
	ok(mmalloc_detach(md) == NULL, "detach returns NULL");
	p = mmalloc(NULL, 10);
	ok(p != NULL, "md NULL: the default pool");
	mfree(NULL, p);
}

static int
openrw(void)
{
	return open(path, O_RDWR);
}

/* Build a list of n nodes in md, head in key 0. */
static void
build(void *md, int n, int from)
{
	Node *head, *x;
	int i;

	head = mmalloc_getkey(md, 0);
	for (i = 0; i < n; i++) {
		x = mmalloc(md, sizeof *x);
		x->value = from + i;
		snprintf(x->text, sizeof x->text, "node %d", from + i);
		x->next = head;
		head = x;
	}
	mmalloc_setkey(md, 0, head);
}

/* The list's count, or -1 if a node is wrong (values count down from top). */
static int
count(void *md, int top)
{
	char want[24];
	Node *x;
	int n;

	n = 0;
	for (x = mmalloc_getkey(md, 0); x != NULL; x = x->next, n++) {
		snprintf(want, sizeof want, "node %d", top - n);
		if (x->value != top - n || strcmp(x->text, want) != 0)
			return -1;
	}
	return n;
}

static void
testshare(void)
{
	void *md, *base;
	pid_t pid;
	int fd, st;

	fd = openrw();
	md = mmalloc_attach(fd, NULL);
	ok(md != NULL, "new heap file attached");
	base = md;
	build(md, 1000, 0);
	mmalloc_setkey(md, 1, (void *)(uintptr_t)0x1234);
	ok(mmalloc_detach(md) == NULL, "first process detaches");

	pid = fork();
	if (pid == 0) {
		int cfd = openrw();
		void *cmd = mmalloc_attach(cfd, NULL);
		if (cmd != base || count(cmd, 999) != 1000 || mmalloc_getkey(cmd, 1) != (void *)0x1234)
			_exit(1);
		build(cmd, 500, 1000);
		poolcheck(mmalloc_pool(cmd));
		_exit(mmalloc_detach(cmd) == NULL ? 0 : 2);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "a second process attaches at the same address, reads the list and adds to it");
	fd = openrw();
	md = mmalloc_attach(fd, NULL);
	ok(md == base && count(md, 1499) == 1500, "the first attaches again: 1500 nodes");
	poolcheck(mmalloc_pool(md));
	ok(1, "poolcheck passes");
	fd = openrw();
	errno = 0;
	ok(mmalloc_attach(fd, NULL) == NULL && errno == EBUSY &&
	    strstr(mmalloc_attach_error(), "attached by another") != NULL,
	    "a heap attached elsewhere is refused: EBUSY (%s)", mmalloc_attach_error());
	close(fd);
	ok(mmalloc_detach(md) == NULL, "detach");
	fd = open(path, O_RDONLY);
	errno = 0;
	ok(mmalloc_attach(fd, NULL) == NULL && errno == EACCES, "read-only descriptor: EACCES");
	close(fd);
	/* the heap's address taken by something else */
	base = mmap(base, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	fd = openrw();
	errno = 0;
	ok(mmalloc_attach(fd, NULL) == NULL && errno == EEXIST,
	    "its address range in use: EEXIST (%s)", mmalloc_attach_error());
	close(fd);
	munmap(base, 4096);
}

/* Copy path to copy, apply damage at off (len bytes of what), try to attach. */
static int
damaged(off_t off, const void *what, size_t len, off_t truncto, char *before, size_t *blen)
{
	char buf[1 << 16];
	ssize_t n;
	int in, out, fd, e;
	void *md;

	in = open(path, O_RDONLY);
	out = open(copy, O_RDWR | O_CREAT | O_TRUNC, 0600);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			tap_bail("write");
	close(in);
	if (what != NULL && pwrite(out, what, len, off) != (ssize_t)len)
		tap_bail("pwrite");
	if (truncto >= 0 && ftruncate(out, truncto) != 0)
		tap_bail("ftruncate");
	*blen = (size_t)pread(out, before, 8192, 0);
	close(out);
	fd = open(copy, O_RDWR);
	errno = 0;
	md = mmalloc_attach(fd, NULL);
	e = errno;
	if (md != NULL) {
		mmalloc_detach(md);
		return 0;
	}
	close(fd);
	return e;
}

static int
unchanged(const char *before, size_t blen)
{
	char after[8192];
	ssize_t n;
	int fd;

	fd = open(copy, O_RDONLY);
	n = pread(fd, after, sizeof after, 0);
	close(fd);
	return n == (ssize_t)blen && memcmp(before, after, blen) == 0;
}

static void
testrefuse(void)
{
	char before[8192];
	size_t blen;
	uint32_t v;
	int e;

	e = damaged(0, "NOTAHEAP", 8, -1, before, &blen);
	ok(e == EINVAL && strstr(mmalloc_attach_error(), "not a pooldbg heap") != NULL &&
	    unchanged(before, blen), "a foreign file: EINVAL, not written (%s)", mmalloc_attach_error());
	e = damaged(16 + 4 * 4 + 3 * 8 + 8 + 5, "x", 1, -1, before, &blen);
	ok(e == EBADMSG && strstr(mmalloc_attach_error(), "checksum") != NULL &&
	    unchanged(before, blen), "a damaged header (a key changed): EBADMSG, not written (%s)",
	    mmalloc_attach_error());
	e = damaged(0, NULL, 0, 8192, before, &blen);
	ok(e == EBADMSG && strstr(mmalloc_attach_error(), "truncated") != NULL &&
	    unchanged(before, blen), "a truncated file: EBADMSG, not written (%s)",
	    mmalloc_attach_error());
	v = 2;
	e = damaged(16, &v, 4, -1, before, &blen);
	ok(e == ENOTSUP && unchanged(before, blen), "another version: ENOTSUP (%s)",
	    mmalloc_attach_error());
	v = 0x04030201;
	e = damaged(24, &v, 4, -1, before, &blen);
	ok(e == ENOTSUP && strstr(mmalloc_attach_error(), "byte order") != NULL,
	    "another byte order: ENOTSUP (%s)", mmalloc_attach_error());
}

static int nbad;
static uint64_t badaddr;

static int
onblock(const mmalloc_block *b, void *arg)
{
	(void)arg;
	if (b->damage != NULL) {
		nbad++;
		badaddr = b->data;
	}
	return 0;
}

static void
testwalk(void)
{
	char err[256];
	void *md;
	char *p, *q;
	int fd, r;

	nbad = 0;
	r = mmalloc_walkfile(path, onblock, NULL, err, sizeof err);
	ok(r == 0 && nbad == 0, "the shared heap file walks clean");
	fd = openrw();
	md = mmalloc_attach(fd, NULL);
	p = mmalloc(md, 40);
	q = mmalloc(md, 40);
	memset(p, 'x', 44);	/* four bytes too many */
	(void)q;
	mmalloc_detach(md);
	nbad = 0;
	r = mmalloc_walkfile(path, onblock, NULL, err, sizeof err);
	ok(r == 1 && nbad == 1 && badaddr == (uintptr_t)p,
	    "a smashed block is found and named (%d damaged)", nbad);
	r = mmalloc_walkfile("/dev/null", onblock, NULL, err, sizeof err);
	ok(r == 2 && strstr(err, "not a pooldbg heap") != NULL, "no heap file: 2 (%s)", err);
	r = mmalloc_walkfile("/nonexistent/heap", onblock, NULL, err, sizeof err);
	ok(r == 2, "a missing file: 2 (%s)", err);
}

int
main(void)
{
	const char *dir;
	int fd;

	dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof path, "%s/mmalloc-test.%d", dir, (int)getpid());
	snprintf(copy, sizeof copy, "%s/mmalloc-copy.%d", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	close(fd);
	testanon();
	testshare();
	testrefuse();
	testwalk();
	unlink(path);
	unlink(copy);
	return tap_done();
}
