/*
 * pooldbg/pooldbg.c -- the pooldbg command: its command line.  Owns the
 * choice of subcommand, the options of `pooldbg run`, their validation,
 * --help and --version, and the usage lines; run.c and snapshot.c do the
 * work.
 *
 * Must never: touch the trace or start the program (run.c does), or print
 * more than one line for a usage error.
 */
#include "pooldbg.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolflags.h"

#define USAGE	"usage: pooldbg run [options] [--] PROGRAM [ARGS...]"
#define CMDUSAGE	USAGE " | pooldbg snapshot PID | pooldbg check HEAPFILE"

void
say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "pooldbg: %s\n", buf);
}

static void
help(void)
{
	printf(
	    "%s\n"
	    "       pooldbg snapshot PID\n"
	    "       pooldbg check HEAPFILE\n"
	    "Run PROGRAM with every heap operation served by the debugging pool and\n"
	    "recorded, with its stack, into a SQLite trace.  With snapshot, have the\n"
	    "traced process PID classify its heap now (reachable or lost blocks) into\n"
	    "its trace.  With check, walk a heap file written by run --heap-file (or\n"
	    "mmalloc) and name every damaged block.\n"
	    "\n"
	    "Options:\n"
	    "  -o, --output FILE  write the trace to FILE (default pooldbg.PROGRAM.PID.db)\n"
	    "      --force        overwrite FILE if it is an existing trace\n"
	    "      --flags LIST   pool debug flags, comma-separated: antagonism, paranoia,\n"
	    "                     verbosity, debugging, logging, tolerance, noreuse\n"
	    "      --depth N      frames per stack, 1 to 256 (default 64)\n"
	    "      --no-follow    do not trace programs that PROGRAM executes\n"
	    "      --heap-file FILE\n"
	    "                     keep PROGRAM's heap in FILE, for pooldbg check after it dies\n"
	    "      --error-exitcode N\n"
	    "                     exit N (1 to 255) if the pool reported a heap error or\n"
	    "                     a scan at exit found a definitely or possibly lost block\n"
	    "      --abort-on-error\n"
	    "                     stop the program at the first heap error\n"
	    "      --quarantine SIZE\n"
	    "                     keep up to SIZE bytes of freed blocks (suffix k, m, g;\n"
	    "                     default 32m; 0: none) to catch writes after free\n"
	    "      --guard SIZES  put allocations of these sizes (e.g. 24,100-200) on pages\n"
	    "                     of their own, with an inaccessible page after them\n"
	    "      --guard-sample N\n"
	    "                     put one allocation in N on guard pages\n"
	    "      --mode MODE    trace (default): every heap event with its stack;\n"
	    "                     leaks: no events, only the scans' blocks with the\n"
	    "                     stacks that made them (cheaper; see LEAKS-ONLY MODE)\n"
	    "      --sample BYTES record one block per BYTES allocated on average (suffix\n"
	    "                     k, m, g), weighted so that leak estimates the totals\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      pooldbg's version\n"
	    "\n"
	    "Exit status: PROGRAM's, or 128+N if signal N ended it, or --error-exitcode's N;\n"
	    "2 for a usage error or a program that cannot be traced; 126/127 if PROGRAM\n"
	    "cannot be run or found.\n"
	    "check: 0 when every block is sound, 1 when damage was found, 2 when FILE\n"
	    "is no readable heap file.\n"
	    "snapshot: 0 when taken, 1 when PID is not traced or took none, 2 for a usage\n"
	    "error or no such process.\n"
	    "See pooldbg(1) and, for the trace, pooldbg-trace(5).\n",
	    USAGE);
}

/* An unknown name in --flags: say which, once. */
static void
badflag(const char *w, size_t n, void *arg)
{
	int *nbad = arg;

	if ((*nbad)++ == 0)
		say("--flags: unknown flag '%.*s' (known: antagonism, paranoia, verbosity, "
		    "debugging, logging, tolerance, noreuse)", n > 64 ? 64 : (int)n, w);
}

/* Each comma-separated word of list is a known flag; else say which is not. */
static int
checkflags(const char *list)
{
	int nbad;

	nbad = 0;
	poolflags_parse(list, badflag, &nbad);
	return nbad == 0 ? 0 : -1;
}

/* Whether list is sizes and ranges of sizes, comma-separated ("24,100-200"); 0 or -1. */
static int
checksizes(const char *list)
{
	unsigned long a, b;
	const char *s;
	char *e;

	for (s = list; *s != '\0'; s = e) {
		if (*s < '0' || *s > '9')
			return -1;
		a = strtoul(s, &e, 10);
		if (*e == '-') {
			s = e + 1;
			if (*s < '0' || *s > '9')
				return -1;
			b = strtoul(s, &e, 10);
			if (b < a)
				return -1;
		}
		if (*e == ',' && e[1] != '\0')
			e++;
		else if (*e != '\0')
			return -1;
	}
	return *list == '\0' ? -1 : 0;
}

/* A size in bytes: digits, then k, m or g; 0, or -1 if s is none. */
static int
parsesize(const char *s, double *v)
{
	unsigned long long n;
	char *end;
	double m;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	m = 1;
	switch (*end) {
	case 'k': case 'K': m = 1024.0; end++; break;
	case 'm': case 'M': m = 1024.0 * 1024; end++; break;
	case 'g': case 'G': m = 1024.0 * 1024 * 1024; end++; break;
	}
	if (errno != 0 || *end != '\0' || (double)n * m > 1e15)
		return -1;
	*v = (double)n * m;
	return 0;
}

/* Parse the arguments of `run` (argv[0] is "run") into o; 0, or an exit status. */
static int
parserun(int argc, char **argv, Opts *o)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL, 'o' },
		{ "flags",	required_argument,	NULL, 'F' },
		{ "depth",	required_argument,	NULL, 'D' },
		{ "no-follow",	no_argument,		NULL, 'N' },
		{ "heap-file",	required_argument,	NULL, 'H' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "error-exitcode", required_argument,	NULL, 'E' },
		{ "abort-on-error", no_argument,	NULL, 'A' },
		{ "quarantine",	required_argument,	NULL, 'Q' },
		{ "guard",	required_argument,	NULL, 'G' },
		{ "guard-sample", required_argument,	NULL, 'S' },
		{ "mode",	required_argument,	NULL, 'M' },
		{ "sample",	required_argument,	NULL, 'R' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	double size;
	long n;
	int c;

	memset(o, 0, sizeof *o);
	o->depth = 64;
	o->follow = 1;
	opterr = 0;
	optind = 1;
	/* '+': options end at PROGRAM; its own options are its business */
	while ((c = getopt_long(argc, argv, "+:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (*optarg == '\0') {
				say("-o: empty file name; %s", USAGE);
				return 2;
			}
			o->output = optarg;
			break;
		case 'F':
			if (checkflags(optarg) < 0)
				return 2;
			o->flags = optarg;
			break;
		case 'D':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 256) {
				say("--depth: '%s' is not a number from 1 to 256", optarg);
				return 2;
			}
			o->depth = (int)n;
			break;
		case 'N':
			o->follow = 0;
			break;
		case 'H':
			if (*optarg == '\0') {
				say("--heap-file: empty file name; %s", USAGE);
				return 2;
			}
			o->heapfile = optarg;
			break;
		case 'E':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 255) {
				say("--error-exitcode: '%s' is not a number from 1 to 255", optarg);
				return 2;
			}
			o->errexit = (int)n;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'A':
			o->abortonerror = 1;
			break;
		case 'Q':
			if (parsesize(optarg, &size) < 0) {
				say("--quarantine: '%s' is not a size (a number, suffix k, m or g)", optarg);
				return 2;
			}
			o->quarantine = optarg;
			break;
		case 'G':
			if (checksizes(optarg) < 0) {
				say("--guard: '%s' is not a list of sizes (e.g. 24,100-200)", optarg);
				return 2;
			}
			o->guard = optarg;
			break;
		case 'S':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1) {
				say("--guard-sample: '%s' is not a number from 1 up", optarg);
				return 2;
			}
			o->guardsample = optarg;
			break;
		case 'M':
			if (strcmp(optarg, "leaks") == 0)
				o->leaks = 1;
			else if (strcmp(optarg, "trace") == 0)
				o->leaks = 0;
			else {
				say("--mode: not a mode (trace or leaks): %s", optarg);
				return 2;
			}
			break;
		case 'R':
			if (parsesize(optarg, &o->sample) < 0 || o->sample == 0) {
				say("--sample: not a size: %s", optarg);
				return 2;
			}
			break;
		case 'h':
			help();
			exit(0);
		case 'V':
			printf("pooldbg %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			say("option '%s' needs an argument; %s", argv[optind - 1], USAGE);
			return 2;
		default:
			if (optopt != 0)
				say("unknown option '-%c'; %s", optopt, USAGE);
			else
				say("unknown option '%s'; %s", argv[optind - 1], USAGE);
			return 2;
		}
	}
	if (optind >= argc) {
		say("missing PROGRAM; %s", USAGE);
		return 2;
	}
	if (argv[optind][0] == '\0') {
		say("empty PROGRAM name; %s", USAGE);
		return 2;
	}
	o->argv = argv + optind;
	return 0;
}

/*
 * pooldbg COMMAND ...: `run`, `snapshot`, or --help / --version.  Exit
 * status as pooldbg(1) says.
 */
int
main(int argc, char **argv)
{
	Opts o;
	int r;

	if (argc < 2) {
		say("missing command; %s", CMDUSAGE);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("pooldbg %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "snapshot") == 0)
		return snapshot(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") != 0) {
		if (argv[1][0] == '-')
			say("unknown option '%s'; %s", argv[1], CMDUSAGE);
		else
			say("unknown command '%s'; %s", argv[1], CMDUSAGE);
		return 2;
	}
	if ((r = parserun(argc - 1, argv + 1, &o)) != 0)
		return r;
	return run(&o);
}
