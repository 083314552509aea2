/*
 * examples/leaky.c -- a small program with leaks to find: it builds a
 * list of names, keeps some of them and forgets others, and exits.
 * `pooldbg run examples/leaky` records every block; the blocks still
 * allocated at exit are in the trace's live_at_exit view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct name {
	struct name *next;
	char	*text;
};

static struct name *kept;	/* still reachable at exit */

static char *
copy(const char *s)
{
	char *t;

	t = malloc(strlen(s) + 1);
	if (t != NULL)
		strcpy(t, s);
	return t;
}

static void
remember(const char *s)
{
	struct name *n;

	n = malloc(sizeof *n);
	if (n == NULL)
		return;
	n->text = copy(s);
	n->next = kept;
	kept = n;
}

static void
forget(const char *s)
{
	char *buf;

	buf = malloc(64);	/* leaked: never freed, no pointer kept */
	if (buf != NULL)
		snprintf(buf, 64, "forgotten %s", s);
}

int
main(void)
{
	static const char *names[] = { "alpha", "beta", "gamma", "delta" };
	char *tmp;
	size_t i;

	for (i = 0; i < 4; i++) {
		remember(names[i]);
		forget(names[i]);
	}
	tmp = copy("and freed the rest");
	printf("remembered %s and 3 more; forgot 4 %s\n", kept->text, tmp);
	free(tmp);
	return 0;
}
