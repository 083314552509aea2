/*
 * tests/leaks/reachable.c -- blocks the program still holds at exit, each
 * through another kind of root: a global (100 bytes), a __thread variable
 * of the main thread (200 bytes: static TLS, allocated by ld.so), a local
 * of a thread waiting in pause() (300 bytes: stopped by the scan, its
 * stack read from its stack pointer), and a local of a thread that blocks
 * every signal (400 bytes: never stopped, its stack read whole).  All
 * four reachable; the scan counts three threads, one stopped.
 *
 * The two threads still run when main returns, so their DTVs -- heap
 * blocks the thread control block points to one entry past their start
 * -- are live, reached only by that interior pointer.  memcheck calls
 * them possibly lost ("... _dl_allocate_tls"); the scan counts the
 * dynamic linker's blocks as roots, so they are reachable.  They are
 * found from the thread pointer on x86-64 glibc; elsewhere not checked.
 *
 * Deterministic: the threads are made and waited for in start(), whose
 * frame (with pthread_create's) is zeroed by clobber() before main
 * returns; the threads hold their blocks in volatile locals until the end.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "leaks.h"

void *global;
__thread void *tls;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;

/* The block this thread's DTV lies in; NULL where unknown. */
static void *
dtv(void)
{
#if defined(__x86_64__) && defined(__GLIBC__)
	char *d;

	__asm__("mov %%fs:8, %0" : "=r"(d));	/* tcbhead_t.dtv: one entry (16 bytes) into the block */
	return d - 16;
#else
	return NULL;
#endif
}

static void
up(void)
{
	void *d;

	d = dtv();
	pthread_mutex_lock(&lock);
	if (d != NULL)
		block(d, "reachable");
	ready++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void *
waiter(void *arg)
{
	void *volatile p;

	(void)arg;
	p = malloc(300);
	block(p, "reachable");
	up();
	for (;;)
		pause();
	return NULL;
}

static void *
deaf(void *arg)
{
	void *volatile p;
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	p = malloc(400);
	block(p, "reachable");
	up();
	for (;;)
		pause();
	return NULL;
}

static NOINLINE void
start(void)
{
	pthread_t t;

	global = malloc(100);
	block(global, "reachable");
	tls = malloc(200);
	block(tls, "reachable");
	pthread_create(&t, NULL, waiter, NULL);
	pthread_create(&t, NULL, deaf, NULL);
	pthread_mutex_lock(&lock);
	while (ready < 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	expect(0, 0, 0, 0, 0, 0);
	printf("threads pid=%d threads=3 stopped=1\n", (int)getpid());
	fflush(stdout);
}

int
main(void)
{
	start();
	clobber();
	return 0;
}
