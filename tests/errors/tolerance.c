/* tests/errors/tolerance.c -- strcpy's NUL one past a block of strlen bytes: a notice under tolerance. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

static const char word[] = "abcdefghijklmnopqrstuvwx";	/* 24 letters */

KEEP char *
copy_word(void)
{
	char *p;

	p = malloc(strlen(word));
	strcpy(p, word);
	return p;
}

KEEP void
release(char *p)
{
	free(p);
}

int
main(void)
{
	release(copy_word());
	return 0;
}
