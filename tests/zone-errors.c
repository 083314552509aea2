/*
 * tests/zone-errors.c -- a zone's debugging reports, one of each kind, in
 * one run: a duplicate free, memory written after its free (caught when
 * the item is handed out again), an item freed to the wrong zone, a
 * pointer that is no item, an unaligned free, then a zone destroyed with
 * an item left.  Untraced, the first report aborts the program; under
 * pooldbg run (tests/zone-trace.sh) each becomes an error in the trace
 * and the program goes on to exit 0.  With an argument it stops after
 * the first report's call: "double" and so on.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <pooldbg/zone.h>

int
main(int argc, char **argv)
{
	uma_zone_t parts, bolts, spare;
	char *a, *b, *c, *d, local[64];
	int i;

	parts = uma_zcreate("parts", 64, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, UMA_ZONE_NOCACHE);
	bolts = uma_zcreate("bolts", 48, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	spare = uma_zcreate("spare", 32, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0);
	if (parts == NULL || bolts == NULL || spare == NULL)
		return 1;
	a = uma_zalloc(parts, M_WAITOK);
	uma_zfree(parts, a);
	uma_zfree(parts, a);	/* duplicate free */
	if (argc > 1 && strcmp(argv[1], "double") == 0)
		return 0;
	b = uma_zalloc(parts, M_WAITOK);
	uma_zfree(parts, b);
	memset(b + 40, 'x', 8);	/* after its free */
	for (i = 0; i < 4; i++)
		(void)uma_zalloc(parts, M_WAITOK);	/* hands b out again: write after free */
	c = uma_zalloc(bolts, M_WAITOK);
	uma_zfree(parts, c);	/* wrong zone */
	uma_zfree(parts, local);	/* no item */
	d = uma_zalloc(parts, M_WAITOK);
	uma_zfree(parts, d + 8);	/* unaligned */
	(void)uma_zalloc(spare, M_WAITOK);
	uma_zdestroy(spare);	/* one item left: a leak, not an error */
	printf("done\n");
	return 0;
}
