/*
 * leak/leak.c -- the leak command: its options, the trace it reads (the
 * one named, or the newest in the current directory), the checks made
 * before trusting it (a finished run, a readable file), the output file,
 * and the exit status: 0 nothing found, 1 leaks of the kinds reported or
 * heap errors, 2 a usage error or a trace that cannot be read.
 *
 * Must never: write to a trace, or print more than one line on stderr
 * for anything that goes wrong (the report itself goes to stdout or -o).
 */
#include "leak.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE	"usage: leak [options] [TRACE]"

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

typedef struct Opts Opts;
struct Opts {
	const char *trace;	/* NULL: the newest in the current directory */
	Query	q;
	unsigned kinds;
	int	maxframes;
	const char *diff;	/* --diff BASE */
	int	format;		/* FMT_* */
	const char *output;	/* -o; NULL: stdout */
	const char **supps;	/* --suppressions, in order */
	int	nsupps;
	int	gensupp;
	int	color;		/* COLOR_* */
	int	view;		/* 's', 'c', 'a' or 'b' (views.c, picture.c); 0: the report */
	const char *picture;	/* -b FILE */
};

void
say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "leak: %s\n", buf);
}

static void
help(void)
{
	printf(
	    "%s\n"
	    "Report the leaks and heap errors of a trace `pooldbg run` wrote (by default\n"
	    "the newest trace in the current directory).\n"
	    "\n"
	    "Options:\n"
	    "      --kinds LIST        leak classes to report, comma-separated: definite,\n"
	    "                          indirect, possible, reachable, unclassified, or all\n"
	    "                          (default definite,possible,unclassified)\n"
	    "      --pid PID           only the process PID\n"
	    "      --max-frames N      frames printed per stack, 0 for all (default 16)\n"
	    "      --snapshot N        the classes of snapshot N instead of those at exit\n"
	    "      --since-mark LABEL  only blocks allocated after the first mark LABEL\n"
	    "      --diff BASE         only records new in this trace, or grown, against BASE\n"
	    "      --format FORMAT     text (default), json, sarif or folded\n"
	    "  -o, --output FILE       write the report to FILE\n"
	    "      --suppressions FILE leave out what FILE suppresses (LeakSanitizer or\n"
	    "                          valgrind format); may be given more than once\n"
	    "      --gen-suppressions  print a valgrind suppression after each record\n"
	    "      --color[=WHEN]      colours: auto (default: on a terminal), always, never\n"
	    "  -s                      live blocks grouped by allocation site\n"
	    "  -c                      per site: bytes, count, average, function; a total\n"
	    "  -a                      every live block, in address order\n"
	    "  -b FILE                 a picture of the heap, as PNG, into FILE\n"
	    "  -h, --help              this help\n"
	    "  -V, --version           leak's version\n"
	    "\n"
	    "Exit status: 0 no leaks of the kinds reported and no heap errors; 1 some;\n"
	    "2 a usage error or a trace that cannot be read.  See leak(1).\n",
	    USAGE);
}

/* A whole decimal number from lo to hi into *v; -1 if it is not one. */
static int
number(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *v < lo || *v > hi)
		return -1;
	return 0;
}

/* --kinds: a comma-separated list of class names, or all. */
static int
kindsof(const char *list, unsigned *kinds)
{
	const char *w, *e;
	int c;

	*kinds = 0;
	for (w = list; ; w = e + 1) {
		for (e = w; *e != '\0' && *e != ','; e++)
			;
		if (e - w == 3 && memcmp(w, "all", 3) == 0)
			*kinds |= KINDS_ALL;
		else if ((c = class_byname(w, (size_t)(e - w))) >= 0)
			*kinds |= KIND(c);
		else {
			say("--kinds: unknown kind '%.*s' (known: definite, indirect, possible, "
			    "reachable, unclassified, all)", e - w > 64 ? 64 : (int)(e - w), w);
			return -1;
		}
		if (*e == '\0')
			return 0;
	}
}

/* Parse argv into o; 0, or the exit status to leave with. */
static int
parse(int argc, char **argv, Opts *o)
{
	enum { O_KINDS = 256, O_PID, O_MAXFRAMES, O_SNAPSHOT, O_MARK, O_DIFF, O_FORMAT,
		O_SUPP, O_GENSUPP, O_COLOR };
	static const struct option longopts[] = {
		{ "kinds",		required_argument,	NULL, O_KINDS },
		{ "pid",		required_argument,	NULL, O_PID },
		{ "max-frames",		required_argument,	NULL, O_MAXFRAMES },
		{ "snapshot",		required_argument,	NULL, O_SNAPSHOT },
		{ "since-mark",		required_argument,	NULL, O_MARK },
		{ "diff",		required_argument,	NULL, O_DIFF },
		{ "format",		required_argument,	NULL, O_FORMAT },
		{ "output",		required_argument,	NULL, 'o' },
		{ "suppressions",	required_argument,	NULL, O_SUPP },
		{ "gen-suppressions",	no_argument,		NULL, O_GENSUPP },
		{ "color",		optional_argument,	NULL, O_COLOR },
		{ "help",		no_argument,		NULL, 'h' },
		{ "version",		no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = {
		[FMT_TEXT] = "text", [FMT_JSON] = "json", [FMT_SARIF] = "sarif", [FMT_FOLDED] = "folded",
	};
	const char **ns;
	size_t i;
	long v;
	int c;

	memset(o, 0, sizeof *o);
	o->kinds = KINDS_DEFAULT;
	o->maxframes = 16;
	o->format = FMT_TEXT;
	o->color = COLOR_AUTO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:hVscab:", longopts, NULL)) != -1) {
		switch (c) {
		case O_KINDS:
			if (kindsof(optarg, &o->kinds) < 0)
				return 2;
			break;
		case O_PID:
			if (number(optarg, 1, 0x7fffffff, &v) < 0) {
				say("--pid: '%s' is not a process id", optarg);
				return 2;
			}
			o->q.pid = (int)v;
			break;
		case O_MAXFRAMES:
			if (number(optarg, 0, MAXFRAMES, &v) < 0) {
				say("--max-frames: '%s' is not a number from 0 to %d", optarg, MAXFRAMES);
				return 2;
			}
			o->maxframes = (int)v;
			break;
		case O_SNAPSHOT:
			if (number(optarg, 1, 0x7fffffff, &v) < 0) {
				say("--snapshot: '%s' is not a snapshot number (1, 2, ...)", optarg);
				return 2;
			}
			o->q.snapshot = (int)v;
			break;
		case O_MARK:
			o->q.mark = optarg;
			break;
		case O_DIFF:
			o->diff = optarg;
			break;
		case O_FORMAT:
			for (i = 0; i < nelem(formats); i++)
				if (strcmp(optarg, formats[i]) == 0)
					break;
			if (i == nelem(formats)) {
				say("--format: unknown format '%s' (known: text, json, sarif, folded)", optarg);
				return 2;
			}
			o->format = (int)i;
			break;
		case 'o':
			if (*optarg == '\0') {
				say("-o: empty file name; %s", USAGE);
				return 2;
			}
			o->output = optarg;
			break;
		case O_SUPP:
			if ((ns = realloc(o->supps, (size_t)(o->nsupps + 1) * sizeof *ns)) == NULL) {
				say("out of memory");
				return 2;
			}
			o->supps = ns;
			o->supps[o->nsupps++] = optarg;
			break;
		case O_GENSUPP:
			o->gensupp = 1;
			break;
		case O_COLOR:
			if (optarg == NULL || strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "auto") == 0)
				o->color = COLOR_AUTO;
			else if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else {
				say("--color: '%s' is not auto, always or never", optarg);
				return 2;
			}
			break;
		case 'h':
			help();
			exit(0);
		case 'V':
			printf("leak (pooldbg) %s\n", PACKAGE_VERSION);
			exit(0);
		case 's':
		case 'c':
		case 'a':
		case 'b':
			if (o->view != 0 && o->view != c) {
				say("-%c and -%c: one view at a time; %s", o->view, c, USAGE);
				return 2;
			}
			o->view = c;
			if (c == 'b')
				o->picture = optarg;
			break;
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
	if (optind < argc)
		o->trace = argv[optind++];
	if (optind < argc) {
		say("one trace at a time ('%s' is one too many); %s", argv[optind], USAGE);
		return 2;
	}
	if (o->trace != NULL && *o->trace == '\0') {
		say("empty trace name; %s", USAGE);
		return 2;
	}
	if (o->gensupp && o->format != FMT_TEXT) {
		say("--gen-suppressions goes with --format=text");
		return 2;
	}
	return 0;
}

typedef struct Cand Cand;
struct Cand {
	struct timespec mtime;
	char	*name;
};

/* Newest first; the name settles a tie. */
static int
candcmp(const void *a, const void *b)
{
	const Cand *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * The newest pooldbg trace in the current directory into path ("./NAME");
 * 0, or -1 after saying why on stderr.
 */
static int
newest(char *path, size_t len)
{
	struct dirent *de;
	struct stat sb;
	Cand *v, *nv;
	size_t n, max, i;
	DIR *d;
	int rc;

	if ((d = opendir(".")) == NULL) {
		say("cannot read the current directory: %s", strerror(errno));
		return -1;
	}
	v = NULL;
	n = max = 0;
	rc = -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || endswith(de->d_name, "-wal") ||
		    endswith(de->d_name, "-shm") || endswith(de->d_name, "-journal"))
			continue;
		if (stat(de->d_name, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
			continue;
		if (n == max) {
			max = max != 0 ? 2 * max : 32;
			if ((nv = realloc(v, max * sizeof *nv)) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n].name = strdup(de->d_name)) == NULL)
			goto nomem;
		v[n++].mtime = sb.st_mtim;
	}
	qsort(v, n, sizeof *v, candcmp);
	for (i = 0; i < n; i++)
		if (trace_probe(v[i].name) == 1) {
			snprintf(path, len, "./%s", v[i].name);
			rc = 0;
			break;
		}
	if (rc < 0)
		say("no pooldbg trace in the current directory; %s", USAGE);
	goto out;
nomem:
	say("out of memory");
out:
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
	return rc;
}

/*
 * Another process that has path open for writing: its pid, and its name
 * in comm; 0 if none is seen (only processes this user may look into).
 */
static int
writerof(const char *path, char *comm, size_t len)
{
	char fdpath[64], buf[256];
	struct dirent *pe, *fe;
	struct stat tsb, sb;
	DIR *pd, *fd;
	FILE *f;
	long flags;
	int pid, found;

	if (stat(path, &tsb) < 0 || (pd = opendir("/proc")) == NULL)
		return 0;
	found = 0;
	while (!found && (pe = readdir(pd)) != NULL) {
		pid = atoi(pe->d_name);
		if (pid <= 0 || pid == (int)getpid())
			continue;
		snprintf(fdpath, sizeof fdpath, "/proc/%d/fd", pid);
		if ((fd = opendir(fdpath)) == NULL)
			continue;
		while ((fe = readdir(fd)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(buf, sizeof buf, "/proc/%d/fd/%.32s", pid, fe->d_name);
			if (stat(buf, &sb) < 0 || sb.st_dev != tsb.st_dev || sb.st_ino != tsb.st_ino)
				continue;
			snprintf(buf, sizeof buf, "/proc/%d/fdinfo/%.32s", pid, fe->d_name);
			flags = 0;
			if ((f = fopen(buf, "r")) != NULL) {
				while (fgets(buf, sizeof buf, f) != NULL)
					if (strncmp(buf, "flags:", 6) == 0)
						flags = strtol(buf + 6, NULL, 8);
				fclose(f);
			}
			if ((flags & O_ACCMODE) != O_RDONLY) {
				found = pid;
				break;
			}
		}
		closedir(fd);
	}
	closedir(pd);
	if (found) {
		snprintf(buf, sizeof buf, "/proc/%d/comm", found);
		snprintf(comm, len, "?");
		if ((f = fopen(buf, "r")) != NULL) {
			if (fgets(comm, (int)len, f) != NULL)
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
	}
	return found;
}

/* meta's value of key: 1 found, 0 absent, -1 the trace cannot be read. */
static int
metaval(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		snprintf(buf, len, "%s", v != NULL ? (const char *)v : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A finished recording: 0, or -1 after saying what is wrong with the trace. */
static int
finished(sqlite3 *db, const char *trace)
{
	char val[32], comm[64];
	int r, pid;

	if ((r = metaval(db, "complete", val, sizeof val)) < 0) {
		say("%s: %s", trace, model_sqlwhy(db));
		return -1;
	}
	if (r == 1 && strcmp(val, "no") == 0) {
		if ((pid = writerof(trace, comm, sizeof comm)) > 0)
			say("%s: run still in progress (pid %d, %s, is writing the trace); "
			    "run leak once it has ended", trace, pid, comm);
		else
			say("%s: incomplete trace: its recording was interrupted or failed "
			    "before it was finished", trace);
		return -1;
	}
	return 0;
}

/*
 * Whether the file's SQLite header carries the trace's application id,
 * read from the bytes themselves: a trace cut short or overwritten past
 * its first page still says what it was.
 */
static int
headerapp(const char *path)
{
	unsigned char h[100];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	n = fread(h, 1, sizeof h, f);
	fclose(f);
	return n == sizeof h && memcmp(h, "SQLite format 3", 16) == 0 &&
	    ((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71]) ==
	    TRACE_APPID;
}

/* One line naming the images whose live blocks are reported unclassified. */
static void
sayunclassified(const char *trace, const Model *m)
{
	char buf[256];
	size_t len;
	int k, n;

	len = 0;
	buf[0] = '\0';
	for (k = n = 0; k < m->nprocs; k++) {
		if (!m->procs[k].unclassified)
			continue;
		if (n++ < 8 && len < sizeof buf)
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d", n > 1 ? ", " : "",
			    m->procs[k].pid);
	}
	if (n > 8 && len < sizeof buf)
		snprintf(buf + len, sizeof buf - len, " and %d more", n - 8);
	say("%s: no exit scan for pid %s (killed, or traced without scans): "
	    "its live blocks are reported as unclassified", trace, buf);
}

/*
 * -s, -c, -a or -b FILE instead of the report: the views of leak(1)'s
 * ancestor over the scans o chose.  Returns the exit status.
 */
static int
runview(const Opts *o, sqlite3 *db, Stacks *stacks, FILE *out, const char *colorenv)
{
	View v;
	long n;

	memset(&v, 0, sizeof v);
	v.db = db;
	v.trace = o->trace;
	v.stacks = stacks;
	v.pid = o->q.pid;
	v.snapshot = o->q.snapshot;
	v.kinds = o->kinds;
	v.maxframes = o->maxframes;
	v.color = o->color == COLOR_ALWAYS || (o->color == COLOR_AUTO && isatty(fileno(out)) &&
	    (colorenv == NULL || *colorenv == '\0'));
	switch (o->view) {
	case 's':
		n = view_sites(&v, out);
		break;
	case 'c':
		n = view_counts(&v, out);
		break;
	case 'a':
		n = view_all(&v, out);
		break;
	default:
		return view_picture(&v, o->picture) < 0 ? 2 : 0;
	}
	if (n < 0)
		return 2;
	if (fflush(out) != 0 || ferror(out)) {
		say("%s: write error: %s", o->output != NULL ? o->output : "standard output",
		    strerror(errno));
		return 2;
	}
	return n > 0;
}

/*
 * leak [options] [TRACE]: the report of TRACE.  Exit status as leak(1)
 * says.
 */
int
main(int argc, char **argv)
{
	static const Format *const fmts[] = {
		[FMT_TEXT] = &fmt_text, [FMT_JSON] = &fmt_json, [FMT_SARIF] = &fmt_sarif,
		[FMT_FOLDED] = &fmt_folded,
	};
	char path[4096], err[512];
	const char *colorenv;
	sqlite3 *db = NULL;
	Stacks *stacks = NULL;
	Supps *supps = NULL;
	Diff *diff = NULL;
	FILE *out = NULL;
	Report r;
	Model m;
	Opts o;
	int rc, i;

	memset(&m, 0, sizeof m);
	if ((rc = parse(argc, argv, &o)) != 0)
		goto done;
	rc = 2;
	if (o.nsupps > 0) {
		if ((supps = supp_new()) == NULL) {
			say("out of memory");
			goto done;
		}
		for (i = 0; i < o.nsupps; i++)
			if (supp_load(supps, o.supps[i], err, sizeof err) < 0) {
				say("--suppressions: %s", err);
				goto done;
			}
	}
	if (o.trace == NULL) {
		if (newest(path, sizeof path) < 0)
			goto done;
		o.trace = path;
		say("reading %s", path);
	}
	if (trace_open_read(o.trace, &db, err, sizeof err) < 0) {
		/* the header says trace but its meta cannot be read: cut short or overwritten */
		if (headerapp(o.trace) && strstr(err, ": not a pooldbg trace") != NULL)
			say("%s: corrupt trace", o.trace);
		else
			say("%s", err);
		goto done;
	}
	/*
	 * One read transaction for the whole report: one snapshot of the
	 * trace, and the file locked once rather than for every statement.
	 */
	sqlite3_exec(db, "PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824; BEGIN",
	    NULL, NULL, NULL);
	if (finished(db, o.trace) < 0)
		goto done;
	if (o.q.mark != NULL && trace_meta(db, "mode", err, sizeof err) == 0 &&
	    strcmp(err, "leaks") == 0) {
		say("%s: --since-mark needs a trace recorded with --mode=trace (this one has no events)",
		    o.trace);
		goto done;
	}
	if (model_read(&m, db, &o.q, err, sizeof err) < 0 ||
	    model_error_blocks(&m, db, err, sizeof err) < 0) {
		say("%s: %s", o.trace, err);
		goto done;
	}
	if (m.nunclassified > 0)
		sayunclassified(o.trace, &m);
	if ((stacks = stacks_open(db, err, sizeof err)) == NULL) {
		say("%s: %s", o.trace, err);
		goto done;
	}
	if (o.diff != NULL && (diff = diff_open(o.diff, &o.q, err, sizeof err)) == NULL) {
		say("%s", err);
		goto done;
	}
	if (o.output == NULL)
		out = stdout;
	else if ((out = fopen(o.output, "w")) == NULL) {
		say("%s: cannot create: %s", o.output, strerror(errno));
		goto done;
	}

	colorenv = getenv("NO_COLOR");
	if (o.view != 0) {
		rc = runview(&o, db, stacks, out, colorenv);
		goto done;
	}
	memset(&r, 0, sizeof r);
	r.out = out;
	r.trace = o.trace;
	r.m = &m;
	r.stacks = stacks;
	r.supps = supps;
	r.kinds = o.kinds;
	r.maxframes = o.maxframes;
	r.gensupp = o.gensupp;
	r.color = o.format == FMT_TEXT && (o.color == COLOR_ALWAYS ||
	    (o.color == COLOR_AUTO && isatty(fileno(out)) &&
	    (colorenv == NULL || *colorenv == '\0')));
	r.multiproc = m.nprocs > 1;
	r.merge = r.multiproc && fmts[o.format] == &fmt_text;
	if (report_run(&r, fmts[o.format], diff) < 0) {
		say("%s: %s", o.trace, r.failed ? model_sqlwhy(db) : "out of memory");
		goto done;
	}
	if (fflush(out) != 0 || ferror(out)) {
		say("%s: write error: %s", o.output != NULL ? o.output : "standard output",
		    strerror(errno));
		goto done;
	}
	rc = r.nshown > 0 || r.nerrs > 0;

done:
	if (out != NULL && out != stdout && fclose(out) != 0 && rc != 2) {
		say("%s: write error: %s", o.output, strerror(errno));
		rc = 2;
	}
	diff_free(diff);
	stacks_close(stacks);
	model_free(&m);
	sqlite3_close(db);
	supp_free(supps);
	free(o.supps);
	return rc;
}
