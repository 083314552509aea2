/*
 * tests/zone-traced.c -- a program with zones for tests/zone-trace.sh to
 * run under pooldbg run: zone "widgets" hands out 10 items, gets 7 back
 * and is destroyed with 3 still held (leaks reported on fd 2); zone
 * "gadgets" hands out 2 that the program never gives back, and lives on.
 */
#include <stdio.h>

#include <pooldbg/zone.h>

static void *keep[2];

int
main(void)
{
	uma_zone_t w, g;
	void *v[10];
	int i;

	w = uma_zcreate("widgets", 40, NULL, NULL, NULL, NULL, 0, 0);
	g = uma_zcreate("gadgets", 200, NULL, NULL, NULL, NULL, 0, 0);
	if (w == NULL || g == NULL)
		return 1;
	for (i = 0; i < 10; i++)
		v[i] = uma_zalloc(w, M_WAITOK);
	for (i = 0; i < 7; i++)
		uma_zfree(w, v[i]);
	uma_zdestroy(w);
	keep[0] = uma_zalloc(g, M_WAITOK);
	keep[1] = uma_zalloc(g, M_WAITOK | M_ZERO);
	printf("%p %p\n", keep[0], keep[1]);
	return 0;
}
