/*
 * tests/errors/guard-many.c -- more guarded blocks than the process's
 * mappings allow: 40000 blocks of 32 bytes made, written and freed one at
 * a time (each guarded slot keeps two mappings for good), with a few made
 * early and freed at the end, after the guard pages have run out.  Every
 * allocation must still succeed and every free be taken; no error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errs.h"

enum { MANY = 40000, EARLY = 8 };

int
main(void)
{
	char *early[EARLY], *p;
	int i;

	for (i = 0; i < EARLY; i++)
		if ((early[i] = malloc(32)) == NULL)
			return 1;
	for (i = 0; i < MANY; i++) {
		if ((p = malloc(32)) == NULL) {
			printf("allocation %d failed\n", i);
			return 1;
		}
		memset(p, i, 32);
		free(p);
	}
	for (i = 0; i < EARLY; i++)
		free(early[i]);
	printf("%d\n", MANY);
	return 0;
}
