/*
 * tests/zone.c -- zones (<pooldbg/zone.h>): every call, type-stable
 * storage, the per-thread caches under threads, the statistics, and each
 * debugging report: memory modified after free (offset and value),
 * duplicate free, free to the wrong zone, unaligned and foreign pointers,
 * leaks at uma_zdestroy, and the default report that aborts.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pooldbg/zone.h>

#include "tap.h"

typedef struct Thing Thing;
struct Thing {
	void	*z_rsvd1, *z_rsvd2;	/* the zone's while free */
	long	stable;			/* kept between uses (init sets it) */
	char	data[40];
};

static int nctor, ndtor, ninit, nfini, failctor;
static char lastmsg[512];
static int nmsg;

static int
ctor(void *mem, int size, void *arg, int flags)
{
	(void)mem;
	(void)arg;
	(void)flags;
	nctor++;
	return size == (int)sizeof(Thing) && !failctor ? 0 : ENOMEM;
}

static void
dtor(void *mem, int size, void *arg)
{
	(void)mem;
	(void)size;
	(void)arg;
	ndtor++;
}

static int
init(void *mem, int size, int flags)
{
	(void)flags;
	((Thing *)mem)->stable = 42;
	ninit++;
	return size == (int)sizeof(Thing) ? 0 : -1;
}

static void
fini(void *mem, int size)
{
	(void)mem;
	(void)size;
	nfini++;
}

static void
catch(uma_zone_t z, const char *msg, void *arg)
{
	(void)z;
	(void)arg;
	snprintf(lastmsg, sizeof lastmsg, "%s", msg);
	nmsg++;
}

static void
testbasic(void)
{
	uma_zone_t z;
	uma_stats st;
	Thing *t, *u, *v[200];
	int i, ok1;

	errno = 0;
	ok(uma_zcreate("bad", 0, NULL, NULL, NULL, NULL, 0, 0) == NULL && errno == EINVAL,
	    "size 0: EINVAL");
	ok(uma_zcreate("bad", 8, NULL, NULL, NULL, NULL, 6, 0) == NULL && errno == EINVAL,
	    "align 6 (not a mask): EINVAL");
	z = uma_zcreate("things", sizeof(Thing), ctor, dtor, init, fini, UMA_ALIGN_CACHE, 0);
	ok(z != NULL && strcmp(uma_zone_name(z), "things") == 0, "uma_zcreate things");
	t = uma_zalloc(z, M_WAITOK);
	ok(t != NULL && ((uintptr_t)t & 63) == 0, "item aligned to 64 (UMA_ALIGN_CACHE)");
	ok(ninit > 0 && t->stable == 42 && nctor == 1, "init ran on the slab (%d items), ctor once",
	    ninit);
	ok(t->data[0] == 0 && t->data[39] == 0, "a first allocation is zeroed");
	t->stable = 7;
	memset(t->data, 'x', sizeof t->data);
	uma_zfree(z, t);
	ok(ndtor == 1, "dtor on free");
	u = uma_zalloc(z, M_NOWAIT);
	ok(u == t && u->stable == 7 && u->data[5] == 'x',
	    "type stable: the same item comes back with its fields as freed");
	u->data[0] = 1;
	uma_zfree(z, u);
	u = uma_zalloc(z, M_NOWAIT | M_ZERO);
	ok(u == t && u->stable == 0 && u->data[0] == 0, "M_ZERO clears the item");
	uma_zfree(z, u);
	ok(ninit > 0 && nfini == 0, "no fini while the zone lives");

	ok1 = 1;
	for (i = 0; i < 200; i++) {
		v[i] = uma_zalloc(z, M_WAITOK);
		if (v[i] == NULL)
			ok1 = 0;
		v[i]->data[0] = (char)i;
	}
	for (i = 0; i < 200; i++)
		if (v[i]->data[0] != (char)i)
			ok1 = 0;
	ok(ok1, "200 distinct items");
	uma_zone_stats(z, &st);
	ok(st.used == 200 && st.size == sizeof(Thing) && st.stride == 64 && st.requests == 203,
	    "stats: used %llu, size %zu, stride %zu, requests %llu",
	    (unsigned long long)st.used, st.size, st.stride, (unsigned long long)st.requests);
	for (i = 0; i < 200; i++)
		uma_zfree(z, v[i]);
	uma_zone_stats(z, &st);
	ok(st.used == 0 && st.free >= 200 && st.frees == 203,
	    "stats after freeing: used 0, free %llu, frees %llu", (unsigned long long)st.free,
	    (unsigned long long)st.frees);

	uma_zone_set_max(z, 2);
	v[0] = uma_zalloc(z, M_NOWAIT);
	v[1] = uma_zalloc(z, M_NOWAIT);
	errno = 0;
	v[2] = uma_zalloc(z, M_NOWAIT);
	ok(v[0] != NULL && v[1] != NULL && v[2] == NULL && errno == ENOMEM,
	    "uma_zone_set_max 2: the third M_NOWAIT allocation fails");
	uma_zone_stats(z, &st);
	ok(st.failures == 1 && st.limit == 2, "stats count the failure");
	uma_zfree(z, v[0]);
	uma_zfree(z, v[1]);
	uma_zone_set_max(z, 0);
	failctor = 1;
	v[0] = uma_zalloc(z, M_NOWAIT);
	failctor = 0;
	uma_zone_stats(z, &st);
	ok(v[0] == NULL && st.failures == 2 && st.used == 0, "a failing ctor fails the allocation");
	uma_zfree(z, NULL);
	uma_zdestroy(z);
	ok(nfini == ninit, "uma_zdestroy: fini on every item init saw (%d)", nfini);
}

static void
testdebug(void)
{
	uma_zone_t z, y;
	uma_stats st;
	char *p, *q, local[64];
	int i;

	z = uma_zcreate("trashy", 100, NULL, NULL, NULL, NULL, 0, 0);
	y = uma_zcreate("other", 100, NULL, NULL, NULL, NULL, 0, 0);
	uma_zone_set_report(z, catch, NULL);
	uma_zone_set_report(y, catch, NULL);
	p = uma_zalloc(z, M_WAITOK);
	ok(p != NULL && *(uint32_t *)(p + 16) == 0xdeadc0de,
	    "an item of a zone without init is handed out filled");
	uma_zfree(z, p);
	p[40] = 'w';	/* a write after free */
	nmsg = 0;
	q = uma_zalloc(z, M_WAITOK);
	ok(q == p && nmsg == 1 && strstr(lastmsg, "memory modified after free") != NULL &&
	    strstr(lastmsg, "offset 40") != NULL && strstr(lastmsg, "val=deadc077") != NULL,
	    "write after free found on reuse: %s", lastmsg);
	nmsg = 0;
	uma_zfree(z, q);
	uma_zfree(z, q);
	ok(nmsg == 1 && strstr(lastmsg, "duplicate free") != NULL, "duplicate free: %s", lastmsg);
	q = uma_zalloc(z, M_WAITOK);
	nmsg = 0;
	uma_zfree(y, q);
	ok(nmsg == 1 && strstr(lastmsg, "did not belong to zone other") != NULL &&
	    strstr(lastmsg, "zone trashy") != NULL, "free to the wrong zone: %s", lastmsg);
	nmsg = 0;
	uma_zfree(z, q + 8);
	ok(nmsg == 1 && strstr(lastmsg, "unaligned free") != NULL, "unaligned free: %s", lastmsg);
	nmsg = 0;
	uma_zfree(z, local);
	ok(nmsg == 1 && strstr(lastmsg, "not an item of any zone") != NULL,
	    "foreign pointer: %s", lastmsg);
	uma_zfree(z, q);	/* the item survived the bad frees */
	uma_zone_stats(z, &st);
	ok(st.errors == 4 && st.used == 0, "4 reports counted on the zone (%llu); the item was "
	    "freed once (used %llu)", (unsigned long long)st.errors, (unsigned long long)st.used);
	uma_zone_stats(y, &st);
	ok(st.errors == 1, "the wrong-zone free is counted on the zone named in the call");

	for (i = 0; i < 3; i++)
		q = uma_zalloc(z, M_WAITOK);
	nmsg = 0;
	uma_zdestroy(z);
	ok(nmsg == 3 && strstr(lastmsg, "leak: item") != NULL && strstr(lastmsg, "pc 0x") != NULL,
	    "uma_zdestroy reports 3 leaks with their pcs: %s", lastmsg);
	uma_zdestroy(y);
}

static void
child(void)
{
	uma_zone_t z;
	void *p;

	z = uma_zcreate("doomed", 32, NULL, NULL, NULL, NULL, 0, 0);
	p = uma_zalloc(z, M_WAITOK);
	uma_zfree(z, p);
	uma_zfree(z, p);
	_exit(0);
}

static void
testabort(void)
{
	int fds[2], st;
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		child();
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
	    strstr(buf, "pooldbg: zone doomed: duplicate free of 0x") == buf,
	    "by default a report is one line on fd 2, then abort: %s", buf);
}

static uma_zone_t tz;

static void *
churn(void *arg)
{
	void *v[64];
	long i, n, bad;
	int j;

	bad = 0;
	n = 20000 * tap_scale();
	for (j = 0; j < 64; j++)
		v[j] = NULL;
	for (i = 0; i < n; i++) {
		j = (int)((i * 7919 + (long)(uintptr_t)arg) % 64);
		if (v[j] != NULL) {
			if (*(long *)((char *)v[j] + 16) != (long)(uintptr_t)v[j])
				bad++;
			uma_zfree(tz, v[j]);
		}
		v[j] = uma_zalloc(tz, M_WAITOK);
		*(long *)((char *)v[j] + 16) = (long)(uintptr_t)v[j];
	}
	for (j = 0; j < 64; j++)
		uma_zfree(tz, v[j]);
	return (void *)bad;
}

static void
testthreads(void)
{
	pthread_t th[4];
	uma_stats st;
	void *r;
	long bad;
	int i;

	tz = uma_zcreate("shared", 48, NULL, NULL, NULL, NULL, 0, 0);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	bad = 0;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	uma_zone_stats(tz, &st);
	ok(bad == 0 && st.used == 0 && st.errors == 0 && st.requests == st.frees,
	    "4 threads churning one zone: no item shared, %llu requests, all freed",
	    (unsigned long long)st.requests);
	uma_zdestroy(tz);
}

static void *freed;	/* what the helper thread freed last */
static void *got;	/* what it got after */

/* Allocate and free an item of tz, then allocate again: from this thread's own cache. */
static void *
owncache(void *arg)
{
	void *a;

	(void)arg;
	a = uma_zalloc(tz, M_WAITOK);
	uma_zfree(tz, a);
	got = uma_zalloc(tz, M_WAITOK);
	uma_zfree(tz, got);
	freed = got;	/* left in this thread's cache when it ends */
	return a;
}

/* A thread's own cache; another thread does not get its items; its end gives them back. */
static void
testowncache(void)
{
	pthread_t th;
	uma_stats st, st2;
	void *a, *b;
	int i, stop;

	tz = uma_zcreate("own", 56, NULL, NULL, NULL, NULL, 0, 0);
	pthread_create(&th, NULL, owncache, NULL);
	pthread_join(th, &a);
	ok(a == got, "a thread's freed item comes back from its own cache");
	uma_zone_stats(tz, &st);
	ok(st.requests == 2 && st.frees == 2 && st.used == 0,
	    "its end folds its counts into the zone's: %llu requests, %llu frees",
	    (unsigned long long)st.requests, (unsigned long long)st.frees);
	stop = 0;
	for (i = 0; i < 64 && !stop; i++) {
		b = uma_zalloc(tz, M_WAITOK);
		stop = b == freed;
	}
	ok(stop, "the item it left cached went back to the slabs, for another thread");
	a = uma_zalloc(tz, M_WAITOK);
	uma_zfree(tz, a);	/* stays in this thread's cache */
	uma_zone_stats(tz, &st2);
	ok(st2.free >= 1 && st2.used == (uint64_t)i, "stats count this thread's cached item as free");
	uma_zdestroy(tz);	/* its cached item is no leak; the i held ones are */
	tz = uma_zcreate("own2", 56, NULL, NULL, NULL, NULL, 0, 0);
	b = uma_zalloc(tz, M_WAITOK);
	uma_zfree(tz, b);
	ok(uma_zalloc(tz, M_WAITOK) == b, "a zone made after one destroyed gets a fresh cache");
}

int
main(void)
{
	testbasic();
	testdebug();
	testabort();
	testthreads();
	testowncache();
	return tap_done();
}
