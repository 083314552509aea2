/*
 * tests/leaks/clean.c -- a program that frees everything it allocates,
 * after making the C library allocate for itself: stdio buffers, a file
 * read and closed, the time zone, the locale, the user database (NSS
 * modules, dlopen'd), strerror, a module dlopen'd and dlclosed, and
 * threads made and joined.  Whatever the library keeps it keeps through
 * its own data: nothing may be definitely, indirectly or possibly lost.
 *
 * Deterministic: everything is made and freed in work(), whose frame is
 * zeroed by clobber() before main returns.
 */
#include <dlfcn.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leaks.h"

static void *
thread(void *arg)
{
	void *p;

	p = malloc((size_t)(uintptr_t)arg);
	free(p);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static NOINLINE void
work(void)
{
	char line[256], *s;
	pthread_t t[3];
	struct tm tm;
	time_t now;
	FILE *f;
	void *h;
	int i, *v;

	setlocale(LC_ALL, "C.UTF-8");
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			;
		fclose(f);
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S %Z", &tm);
	(void)getpwuid(getuid());
	s = strdup(strerror(2));
	free(s);
	if ((h = dlopen("libm.so.6", RTLD_NOW)) != NULL)
		dlclose(h);
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, thread, (void *)(uintptr_t)(100 * (i + 1)));
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	v = malloc(100 * sizeof *v);
	for (i = 0; i < 100; i++)
		v[i] = (i * 37) % 100;
	qsort(v, 100, sizeof *v, cmp);
	free(v);
	printf("clean: %s\n", setlocale(LC_ALL, NULL));
	expect(0, 0, 0, 0, 0, 0);
}

int
main(void)
{
	work();
	clobber();
	return 0;
}
