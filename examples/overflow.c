/*
 * examples/overflow.c -- the first example: a Pool over mmap'd arenas
 * catching a forgotten NUL and a one-byte overflow.
 *
 * It owns one demonstration pool and its callbacks.  It must never use
 * the pool again once the pool has panicked: after a panic the heap is
 * corrupt, and the program only reports and exits.
 *
 * Exit status: 0 when poolcheck caught the overflow, 1 when it did not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pooldbg/pool.h>

static sigjmp_buf afterpanic;	/* where demopanic returns to */
static char panicmsg[512];	/* the message of the panic */

/* alloc: each arena is a fresh anonymous mapping. */
static void *
maparena(size_t size)
{
	void *v;

	v = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return v == MAP_FAILED ? NULL : v;
}

/* merge: arenas are never unmapped, so two adjacent ones may be one. */
static int
joinarenas(void *lower, void *upper)
{
	(void)lower;
	(void)upper;
	return 1;
}

/* print: the pool's own lines go to stderr, each marked with its name. */
static void __attribute__((format(printf, 2, 3)))
demoprint(Pool *p, const char *fmt, ...)
{
	char buf[1024];
	char *line, *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (line = buf; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL) {
			fprintf(stderr, "    %s| %s\n", p->name, line);
			break;
		}
		fprintf(stderr, "    %s| %.*s\n", p->name, (int)(nl - line), line);
	}
}

/*
 * panic: keep the message and jump back to main.  A real program would
 * print it and abort; panic must never return to the pool.
 */
static void __attribute__((format(printf, 2, 3), noreturn))
demopanic(Pool *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	va_start(ap, fmt);
	vsnprintf(panicmsg, sizeof panicmsg, fmt, ap);
	va_end(ap);
	siglongjmp(afterpanic, 1);
}

static Pool demo = {
	.name = "demo",
	.maxsize = 64 << 20,
	.minarena = 1 << 20,
	.quantum = 32,
	.alloc = maparena,
	.merge = joinarenas,
	.print = demoprint,
	.panic = demopanic,
	.flags = POOL_ANTAGONISM | POOL_LOGGING | POOL_TOLERANCE,
};

int
main(void)
{
	static const char *const words[] = { "alpha", "beta", "gamma" };
	char *s[3];
	char *t, *buf;
	size_t i, n;

	/* Our lines and the pool's (on stderr) stay in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("Pool \"%s\": mmap'd arenas, flags ANTAGONISM|LOGGING|TOLERANCE.\n"
	    "Lines marked \"%s|\" are the pool's own, printed through p->print.\n\n",
	    demo.name, demo.name);

	printf("1. Three strings, each with room for its NUL:\n");
	for (i = 0; i < 3; i++) {
		n = strlen(words[i]) + 1;
		s[i] = poolalloc(&demo, n);
		if (s[i] == NULL) {
			perror("overflow: poolalloc");
			return 1;
		}
		if (i == 0)
			printf("   a fresh block is not zeroed: its first word is "
			    "0x%08x (ANTAGONISM's 0xDF marking)\n",
			    (unsigned)*(uint32_t *)s[0]);
		memcpy(s[i], words[i], n);
		printf("   \"%s\" in %zu bytes at %p\n", s[i], n, (void *)s[i]);
	}

	printf("\n2. A string copied into strlen() bytes: its NUL lands one past "
	    "the end.\n   With TOLERANCE, poolfree reports it and repairs it:\n");
	n = strlen("forgotten");
	t = poolalloc(&demo, n);
	if (t == NULL) {
		perror("overflow: poolalloc");
		return 1;
	}
	strcpy(t, "forgotten");	/* the bug: n + 1 bytes into n */
	printf("   \"%s\" in %zu bytes at %p; freeing it:\n", t, n, (void *)t);
	poolfree(&demo, t);
	printf("   the 00 among the guard bytes (f0 fa fe) in the dump is the NUL;\n"
	    "   the pool put the guard byte back and freed the block.\n");

	printf("\n3. One byte too many (not a NUL) written into a 10-byte "
	    "block,\n   then poolcheck walks the whole pool:\n");
	buf = poolalloc(&demo, 10);
	if (buf == NULL) {
		perror("overflow: poolalloc");
		return 1;
	}
	memset(buf, 'x', 11);	/* the bug: 11 bytes into 10 */
	if (sigsetjmp(afterpanic, 0) == 0) {
		poolcheck(&demo);
		fprintf(stderr, "overflow: poolcheck did not catch the "
		    "overflow\n");
		return 1;
	}

	printf("   the dump shows the 'x' bytes (78) running over the first guard byte;\n"
	    "   the panic handler was called with:\n     %s", panicmsg);
	printf("\nThe one-byte overflow was caught.\n");
	return 0;
}
