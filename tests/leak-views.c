/*
 * tests/leak-views.c -- leak's views of the heap (-s, -c, -a, -b) over a
 * trace made here row by row, so every line they print is known: two
 * processes with scans at exit, a snapshot, stacks with an inline chain,
 * tags that are stack pcs and tags that are not, a block no recorded call
 * made, arenas.  Each view is printed into memory and compared line for
 * line; the picture is decoded back (signature, chunks and their CRCs,
 * IHDR, the pixels at known addresses).  Then the refusals: a trace with
 * no scans, a pid without scans, a snapshot that does not exist, a scan
 * without arenas, a picture path that cannot be written, damaged tables.
 *
 * Owns only its temporary directory; never depends on timing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "leak.h"
#include "tap.h"

static char tmp[] = "/tmp/pooldbg-leak-views-XXXXXX";
static char tracepath[512];	/* the trace with everything */
static char emptypath[512];	/* a trace without scans */
static char damagedpath[512];	/* a trace missing tables */
static char errtext[4096];	/* what the last captured call printed on stderr */
static char outtext[4096];	/* on stdout */

/*
 * Process 1 (pid 101): a scan at exit with two arenas and eight blocks,
 * and snapshot 1 (incomplete, no arenas) with one.  Process 2 (pid 202):
 * a scan at exit with a 64 MiB arena.  Process 3 (pid 303): no scans.
 * Tracing began (modules.loaded) at 1 s in process 1.
 */
static const char rows[] =
	"INSERT INTO processes(id, pid, ppid, parent, execseq, forked, exe, cmdline, start,"
	"  end_how, end_status) VALUES"
	" (1, 101, 1, NULL, 0, 0, '/usr/bin/alpha', 'alpha', 7, 'exit', 0),"
	" (2, 202, 101, 1, 0, 0, '/usr/bin/beta', 'beta -x', 8, 'exit', 0),"
	" (3, 303, 101, 1, 0, 0, '/usr/bin/gamma', 'gamma', 9, 'exit', 0);"
	"INSERT INTO modules(id, process, path, buildid, base, lo, hi, loaded, unloaded) VALUES"
	" (1, 1, '/usr/bin/alpha', NULL, 65536, 65536, 131072, 1000000000, NULL),"
	" (2, 2, '/usr/lib/libbeta.so', NULL, 481036337152, 481036337152, 481037385728,"
	"  5000000000, NULL);"
	/* process 1: main -> make_buf; main -> parse with xdup inlined; main -> keep */
	"INSERT INTO frames(process, id, parent, pc) VALUES"
	" (1, 1, 0, 69632), (1, 2, 1, 69888), (1, 5, 0, 69648), (1, 3, 5, 70144),"
	" (1, 4, 1, 70656),"
	" (2, 1, 0, 481036341248);"
	"INSERT INTO locations(process, pc, depth, function, file, line, column, module, offset) VALUES"
	" (1, 69632, 0, 'main', '/src/alpha/main.c', 30, 5, 1, 4096),"
	" (1, 69648, 0, 'main', '/src/alpha/main.c', 31, 5, 1, 4112),"
	" (1, 69888, 0, 'make_buf', '/src/alpha/buf.c', 12, 9, 1, 4352),"
	" (1, 70144, 0, 'xdup', '/src/alpha/str.h', 5, 2, 1, 4608),"
	" (1, 70144, 1, 'parse', '/src/alpha/parse.c', 40, 3, 1, 4608),"
	" (1, 70656, 0, 'keep', '/src/alpha/list.c', 8, 1, 1, 5120),"
	" (2, 481036341248, 0, 'grow', '/src/beta/grow.c', 77, 4, 2, 4096);"
	"INSERT INTO events(seq, process, time, tid, type, call, flags, ptr, newptr, size, align, stack)"
	" VALUES"
	" (1, 1, 1012000000, 101, 'alloc', 'malloc', 0, 1048672, NULL, 64, NULL, 2),"
	" (2, 1, 1500000000, 101, 'alloc', 'malloc', 0, 1048784, NULL, 64, NULL, 2),"
	" (3, 1, 2250000000, 101, 'alloc', 'malloc', 0, 1048896, NULL, 16, NULL, 3),"
	" (4, 1, 2300000000, 101, 'alloc', 'malloc', 0, 1048960, NULL, 24, NULL, 3),"
	" (5, 1, 1001000000, 101, 'alloc', 'calloc', 0, 1049120, NULL, 1024, NULL, 4),"
	" (6, 1, 3000000000, 101, 'alloc', 'malloc', 0, 1050656, NULL, 48, NULL, 4),"
	" (7, 1, 3000500000, 101, 'alloc', 'malloc', 0, 2097248, NULL, 200, NULL, 2),"
	" (8, 2, 5100000000, 202, 'alloc', 'malloc', 0, 0, NULL, 100, NULL, 1),"
	" (9, 2, 5200000000, 202, 'alloc', 'malloc', 0, 0, NULL, 10, NULL, 1);"
	"INSERT INTO scans(id, process, snapshot, time, end_time, seq, tid, threads, stopped, roots,"
	"  complete) VALUES"
	" (1, 1, 0, 4000000000, 4000100000, 7, 101, 1, 1, 8192, 1),"
	" (2, 1, 1, 3500000000, NULL, 6, 101, 1, 1, 8192, 0),"
	" (3, 2, 0, 6000000000, 6000100000, 9, 202, 2, 2, 4096, 1);"
	"INSERT INTO arenas(scan, base, size) VALUES"
	" (1, 2097152, 3072), (1, 1048576, 12288),"
	" (3, 139637976727552, 67108864);"
	/* scan 1: block, bsize, ptr, size as a pool lays them out: 32 bytes before the
	   caller's (header and tags), the tail after */
	"INSERT INTO scan_blocks(scan, ptr, size, class, alloc_seq, stack, call, tag, block, bsize,"
	"  preview) VALUES"
	" (1, 1048672, 64, 'definite', 1, 2, 'malloc', 69888, 1048640, 112, x'00'),"
	" (1, 1048784, 64, 'definite', 2, 2, 'malloc', 69888, 1048752, 112, x'00'),"
	" (1, 1048896, 16, 'possible', 3, 3, 'malloc', 70144, 1048864, 64, x'00'),"
	" (1, 1048960, 24, 'indirect', 4, 3, 'malloc', 70144, 1048928, 64, x'00'),"
	" (1, 1049120, 1024, 'reachable', 5, 4, 'calloc', 70656, 1049088, 1088, x'00'),"
	" (1, 1050656, 48, 'definite', 6, 4, 'malloc', 74565, 1050624, 96, x'00'),"
	" (1, 1052704, 32, 'definite', NULL, NULL, NULL, NULL, 1052672, 80, NULL),"
	" (1, 2097248, 200, 'definite', 7, 2, 'malloc', 69888, 2097216, 256, x'00'),"
	" (2, 1048672, 64, 'reachable', 1, 2, 'malloc', 69888, 1048640, 112, x'00'),"
	" (3, 139637976731680, 100, 'definite', 8, 1, 'malloc', 481036341248,"
	"  139637976731648, 144, x'00'),"
	" (3, 139637976735776, 10, 'possible', 9, 1, 'malloc', 2457, 139637976735744, 64, x'00');";

/* Run fn with stderr (and stdout) going to files; their text into errtext and outtext. */
#define CAPTURE(call)	do {				\
		int fd1_, fd2_;				\
		fflush(stdout);				\
		fd1_ = redirect(1, "out");		\
		fd2_ = redirect(2, "err");		\
		call;					\
		fflush(stdout);				\
		fflush(stderr);				\
		restore(1, fd1_, "out", outtext, sizeof outtext); \
		restore(2, fd2_, "err", errtext, sizeof errtext); \
	} while (0)

static int
redirect(int fd, const char *name)
{
	char path[600];
	int saved, f;

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	if ((f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0)
		tap_bail("%s: %s", path, strerror(errno));
	saved = dup(fd);
	dup2(f, fd);
	close(f);
	return saved;
}

static void
restore(int fd, int saved, const char *name, char *text, size_t len)
{
	char path[600];
	ssize_t n;
	int f;

	dup2(saved, fd);
	close(saved);
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	n = -1;
	if ((f = open(path, O_RDONLY)) >= 0) {
		n = read(f, text, len - 1);
		close(f);
	}
	text[n > 0 ? n : 0] = '\0';
}

/* Compare got with want line by line; on a difference show the first. */
static void
same(const char *got, const char *want, const char *name)
{
	const char *g, *w;
	int line;

	if (tap_ok(strcmp(got, want) == 0, "%s", name))
		return;
	for (g = got, w = want, line = 1; *g != '\0' && *g == *w; g++, w++)
		if (*g == '\n')
			line++;
	tap_diag("line %d differs; got:", line);
	for (g = got; *g != '\0';) {
		w = strchr(g, '\n');
		tap_diag("|%.*s", w != NULL ? (int)(w - g) : (int)strlen(g), g);
		g = w != NULL ? w + 1 : g + strlen(g);
	}
}

/* A trace at path made by trace_create, then sql. */
static void
maketrace(const char *path, const char *sql)
{
	char err[256], *msg;
	sqlite3 *db;

	if (trace_create(path, &db, err, sizeof err) < 0)
		tap_bail("%s", err);
	msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		tap_bail("%s: %s", path, msg);
	sqlite3_close(db);
}

/* Open path for the views; the View's defaults as leak's. */
static void
openview(View *v, const char *path)
{
	char err[256];

	memset(v, 0, sizeof *v);
	if (trace_open_read(path, &v->db, err, sizeof err) < 0)
		tap_bail("%s", err);
	if ((v->stacks = stacks_open(v->db, err, sizeof err)) == NULL)
		tap_bail("%s", err);
	v->trace = path;
	v->kinds = KINDS_DEFAULT;
}

static void
closeview(View *v)
{
	stacks_close(v->stacks);
	sqlite3_close(v->db);
}

typedef long (*Viewfn)(const View *, FILE *);

/* Run view fn on v into memory; its text into *text (the caller frees it), its result returned. */
static long
run(Viewfn fn, const View *v, char **text)
{
	size_t len;
	FILE *f;
	long r;

	if ((f = open_memstream(text, &len)) == NULL)
		tap_bail("open_memstream: %s", strerror(errno));
	CAPTURE(r = fn(v, f));
	fclose(f);
	return r;
}

/* Run fn and check what it printed and returned. */
static void
check(Viewfn fn, const View *v, const char *want, long wantn, const char *name)
{
	char *text;
	long r;

	text = NULL;
	r = run(fn, v, &text);
	same(text, want, name);
	if (!tap_ok(r == wantn, "%s: returns %ld", name, wantn))
		tap_diag("returned %ld; stderr: %s", r, errtext);
	free(text);
}

/* Run fn, expecting -1, nothing on out, and the one line err on stderr. */
static void
refused(Viewfn fn, const View *v, const char *err, const char *name)
{
	char *text;
	long r;

	text = NULL;
	r = run(fn, v, &text);
	ok(r == -1 && text[0] == '\0', "%s: -1, nothing printed", name);
	same(errtext, err, name);
	free(text);
}

/* ---- the picture, decoded back ------------------------------------------- */

typedef struct Img Img;
struct Img {
	uint32_t w, h;
	uint8_t	plte[3 * 256];
	int	nplte;
	uint8_t	*rows;		/* h rows of a filter byte and w palette indexes */
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decode path into im: 0, or -1 with why. */
static int
readpng(const char *path, Img *im, char *why, size_t len)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *file, *idat, *d;
	size_t size, at, nidat, n;
	uLongf want;
	uint32_t clen, crc;
	struct stat sb;
	int fd, rc, ended, y;

	memset(im, 0, sizeof *im);
	rc = -1;
	file = idat = NULL;
	nidat = 0;
	ended = 0;
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &sb) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size = (size_t)sb.st_size;
	file = malloc(size + 1);
	idat = malloc(size + 1);
	if (file == NULL || idat == NULL || read(fd, file, size) != (ssize_t)size) {
		snprintf(why, len, "cannot read %s", path);
		goto done;
	}
	if (size < 8 || memcmp(file, sig, 8) != 0) {
		snprintf(why, len, "no PNG signature");
		goto done;
	}
	for (at = 8; at < size; at += 12 + clen) {
		if (ended || size - at < 12 || (clen = get32(file + at)) > size - at - 12) {
			snprintf(why, len, "a chunk at %zu runs past the end, or follows IEND", at);
			goto done;
		}
		d = file + at + 8;
		crc = (uint32_t)crc32(crc32(0L, file + at + 4, 4), d, clen);
		if (crc != get32(d + clen)) {
			snprintf(why, len, "bad CRC on chunk %.4s", (char *)file + at + 4);
			goto done;
		}
		if (memcmp(file + at + 4, "IHDR", 4) == 0) {
			if (at != 8 || clen != 13 || d[8] != 8 || d[9] != 3 || d[10] || d[11] || d[12]) {
				snprintf(why, len, "IHDR not first, or not 8-bit palette");
				goto done;
			}
			im->w = get32(d);
			im->h = get32(d + 4);
		} else if (memcmp(file + at + 4, "PLTE", 4) == 0) {
			im->nplte = (int)(clen / 3);
			memcpy(im->plte, d, clen <= sizeof im->plte ? clen : sizeof im->plte);
		} else if (memcmp(file + at + 4, "IDAT", 4) == 0) {
			memcpy(idat + nidat, d, clen);
			nidat += clen;
		} else if (memcmp(file + at + 4, "IEND", 4) == 0)
			ended = 1;
	}
	if (!ended || im->w == 0 || im->h == 0 || im->nplte == 0) {
		snprintf(why, len, "no IEND, IHDR or PLTE");
		goto done;
	}
	want = (uLongf)im->h * (im->w + 1);
	n = want;
	if ((im->rows = malloc(want)) == NULL || uncompress(im->rows, &want, idat, nidat) != Z_OK ||
	    want != n) {
		snprintf(why, len, "the image data does not inflate to %u rows of %u", im->h, im->w);
		goto done;
	}
	for (y = 0; y < (int)im->h; y++)
		if (im->rows[(size_t)y * (im->w + 1)] != 0) {
			snprintf(why, len, "row %d has filter %d", y, im->rows[(size_t)y * (im->w + 1)]);
			goto done;
		}
	rc = 0;

done:
	close(fd);
	free(file);
	free(idat);
	if (rc < 0) {
		free(im->rows);
		im->rows = NULL;
	}
	return rc;
}

/* The colour of pixel (x, y) as 0xRRGGBB; -1 outside the image or the palette. */
static long
pixel(const Img *im, uint32_t x, uint32_t y)
{
	const uint8_t *c;
	int i;

	if (x >= im->w || y >= im->h)
		return -1;
	i = im->rows[(size_t)y * (im->w + 1) + 1 + x];
	if (i >= im->nplte)
		return -1;
	c = im->plte + 3 * i;
	return (long)c[0] << 16 | (long)c[1] << 8 | c[2];
}

enum {	/* the colours of the picture */
	WHITE	= 0xffffff,
	YELLOW	= 0xffff00,
	DARKBLUE = 0x00008b,
	ORANGE	= 0xff8c00,
	PURPLE	= 0x800080,
	DARKRED	= 0x8b0000,
	BLUE	= 0x1e90ff,
	RED	= 0xff0000,
};

static void
checkpixel(const Img *im, uint32_t x, uint32_t y, long want, const char *what)
{
	long got;

	got = pixel(im, x, y);
	if (!tap_ok(got == want, "picture: pixel (%u, %u), %s, is %06lx", x, y, what, want))
		tap_diag("it is %06lx", got);
}

/* The legend line the picture at path prints, for pid's scan. */
static const char legendtail[] =
	"; bright red headers and tails of leaked blocks, bright blue those of reachable blocks,"
	" dark red definite, purple indirect, orange possible, dark blue reachable, yellow free,"
	" white padding\n";

static void
pictures(void)
{
	char png[600], want[2048], why[256];
	struct stat sb;
	View v;
	Img im;
	int r;

	openview(&v, tracepath);

	/* pid 101 at exit: arenas 0x100000 (12288 bytes: rows 0-2) and 0x200000 (3072: row 4) */
	snprintf(png, sizeof png, "%s/alpha.png", tmp);
	CAPTURE(r = view_picture(&v, png));
	if (!tap_ok(r == 0 && errtext[0] == '\0', "picture of pid 101 written"))
		tap_diag("stderr: %s", errtext);
	snprintf(want, sizeof want, "%s: 512x5 pixels, 8 bytes a pixel: 2 arenas of 15360 bytes,"
	    " pid 101 /usr/bin/alpha, scan at exit%s", png, legendtail);
	same(outtext, want, "picture: the legend line");
	if (!tap_ok(readpng(png, &im, why, sizeof why) == 0, "picture decodes: signature, CRCs, IHDR"))
		tap_diag("%s", why);
	else {
		ok(im.w == 512 && im.h == 5 && im.nplte == 8, "picture: 512x5, 8 colours");
		checkpixel(&im, 0, 0, YELLOW, "the arena's header, in no block");
		checkpixel(&im, 8, 0, RED, "the header of a definite block");
		checkpixel(&im, 14, 0, DARKRED, "a definite block's bytes");
		checkpixel(&im, 20, 0, RED, "its tail");
		checkpixel(&im, 40, 0, ORANGE, "a possible block's bytes");
		checkpixel(&im, 48, 0, PURPLE, "an indirect block's bytes");
		checkpixel(&im, 56, 0, YELLOW, "free bytes between blocks");
		checkpixel(&im, 64, 0, BLUE, "the header of a reachable block");
		checkpixel(&im, 100, 0, DARKBLUE, "a reachable block's bytes");
		checkpixel(&im, 0, 1, RED, "the header of a block without a call, row 2");
		checkpixel(&im, 511, 2, YELLOW, "the first arena's last byte");
		checkpixel(&im, 0, 3, WHITE, "the row between arenas");
		checkpixel(&im, 0, 4, YELLOW, "the second arena's header");
		checkpixel(&im, 8, 4, RED, "a header in the second arena");
		checkpixel(&im, 20, 4, DARKRED, "a definite block there");
		checkpixel(&im, 383, 4, YELLOW, "the second arena's last byte");
		checkpixel(&im, 384, 4, WHITE, "padding after it");
		free(im.rows);
	}

	/* to standard output (the file CAPTURE sends it to): the legend goes to stderr */
	snprintf(png, sizeof png, "%s/out", tmp);
	CAPTURE(r = view_picture(&v, png));
	snprintf(want, sizeof want, "%s: 512x5 pixels, 8 bytes a pixel: 2 arenas of 15360 bytes,"
	    " pid 101 /usr/bin/alpha, scan at exit%s", png, legendtail);
	ok(r == 0, "picture to standard output written");
	same(errtext, want, "picture to standard output: the legend on stderr");
	r = readpng(png, &im, why, sizeof why);
	if (!tap_ok(r == 0 && im.h == 5, "picture to standard output: nothing else in it"))
		tap_diag("%s", r == 0 ? "not 5 rows" : why);
	if (r == 0)
		free(im.rows);

	/* pid 202: one 64 MiB arena, drawn at 32 bytes a pixel to stay within 4096 rows */
	v.pid = 202;
	snprintf(png, sizeof png, "%s/beta.png", tmp);
	CAPTURE(r = view_picture(&v, png));
	ok(r == 0, "picture of pid 202 written");
	snprintf(want, sizeof want, "%s: 512x4096 pixels, 32 bytes a pixel: 1 arena of 67108864 bytes,"
	    " pid 202 /usr/bin/beta, scan at exit%s", png, legendtail);
	same(outtext, want, "picture: a large arena: a coarser scale");
	if (!tap_ok(readpng(png, &im, why, sizeof why) == 0, "large picture decodes"))
		tap_diag("%s", why);
	else {
		ok(im.w == 512 && im.h == 4096, "picture: 512x4096");
		checkpixel(&im, 128, 0, RED, "a header at 32 bytes a pixel");
		checkpixel(&im, 130, 0, DARKRED, "its bytes");
		checkpixel(&im, 132, 0, RED, "the pixel holding its last bytes and tail");
		checkpixel(&im, 511, 4095, YELLOW, "the arena's end");
		free(im.rows);
	}

	/* refusals: no arenas, no such directory, a write that fails */
	v.pid = 101;
	v.snapshot = 1;
	snprintf(png, sizeof png, "%s/snap.png", tmp);
	CAPTURE(r = view_picture(&v, png));
	snprintf(want, sizeof want, "leak: %s: pid 101: the scan has no arenas to draw\n", tracepath);
	ok(r == -1 && outtext[0] == '\0', "picture of a scan without arenas: refused");
	same(errtext, want, "picture of a scan without arenas: the line");
	ok(stat(png, &sb) < 0 && errno == ENOENT, "picture of a scan without arenas: no file");

	v.snapshot = 0;
	snprintf(png, sizeof png, "%s/nodir/x.png", tmp);
	CAPTURE(r = view_picture(&v, png));
	snprintf(want, sizeof want, "leak: %s: cannot create %s: %s\n", tracepath, png, strerror(ENOENT));
	ok(r == -1 && outtext[0] == '\0', "picture to a missing directory: refused");
	same(errtext, want, "picture to a missing directory: the line");

	if (access("/dev/full", W_OK) == 0) {
		CAPTURE(r = view_picture(&v, "/dev/full"));
		snprintf(want, sizeof want, "leak: %s: cannot write /dev/full: %s\n", tracepath,
		    strerror(ENOSPC));
		ok(r == -1 && outtext[0] == '\0', "picture to a full device: refused");
		same(errtext, want, "picture to a full device: the line");
		ok(access("/dev/full", F_OK) == 0, "picture to a full device: the device stays");
	} else
		tap_skip(3, "no /dev/full");
	closeview(&v);
}

/* ---- the text views -------------------------------------------------------- */

#define IND	"                                        "	/* 40: where the site column starts */

static const char sites_default[] =
	"pid 101 /usr/bin/alpha, scan at exit\n"
	"     bytes  blocks  definite  possible  site\n"
	"       328       3         3         0  make_buf buf.c:12\n"
	IND "<- main main.c:30\n"
	"        48       1         1         0  0x12345 (alpha+0x2345)\n"
	IND "<- keep list.c:8\n"
	IND "<- main main.c:30\n"
	"        16       1         0         1  xdup str.h:5 (inlined)\n"
	IND "<- parse parse.c:40\n"
	IND "<- main main.c:31\n"
	"\n"
	"pid 202 /usr/bin/beta, scan at exit\n"
	"     bytes  blocks  definite  possible  site\n"
	"       100       1         1         0  grow grow.c:77\n"
	"        10       1         0         1  0x999\n"
	IND "<- grow grow.c:77\n";

static const char sites_all[] =
	"pid 101 /usr/bin/alpha, scan at exit\n"
	"     bytes  blocks  definite  indirect  possible reachable  site\n"
	"      1024       1         0         0         0         1  keep list.c:8\n"
	"       328       3         3         0         0         0  make_buf buf.c:12\n"
	"        48       1         1         0         0         0  0x12345 (alpha+0x2345)\n"
	"        40       2         0         1         1         0  xdup str.h:5 (inlined)\n";

static const char sites_color[] =
	"pid 202 /usr/bin/beta, scan at exit\n"
	"     bytes  blocks  definite  possible  site\n"
	"\033[1;31m       100       1         1         0  grow grow.c:77\033[0m\n"
	"\033[33m        10       1         0         1  0x999\033[0m\n"
	IND "<- grow grow.c:77\n";

static const char sites_snapshot[] =
	"pid 101 /usr/bin/alpha, snapshot 1 (incomplete)\n"
	"no definite or possible blocks\n";

static const char counts_default[] =
	"pid 101 /usr/bin/alpha, scan at exit\n"
	"     bytes  blocks   average  function\n"
	"       328       3       109  make_buf buf.c:12\n"
	"        48       1        48  0x12345 (alpha+0x2345)\n"
	"        16       1        16  xdup str.h:5 (inlined)\n"
	"       392       5        78  total\n"
	"\n"
	"pid 202 /usr/bin/beta, scan at exit\n"
	"     bytes  blocks   average  function\n"
	"       100       1       100  grow grow.c:77\n"
	"        10       1        10  0x999\n"
	"       110       2        55  total\n";

static const char counts_snapshot[] =
	"pid 101 /usr/bin/alpha, snapshot 1 (incomplete)\n"
	"     bytes  blocks   average  function\n"
	"        64       1        64  make_buf buf.c:12\n"
	"        64       1        64  total\n";

static const char all_alpha[] =
	"pid 101 /usr/bin/alpha, scan at exit\n"
	"address                  size  class           age  site\n"
	"0x0000000000100060         64  definite     0.012s  make_buf buf.c:12\n"
	"0x00000000001000d0         64  definite     0.500s  make_buf buf.c:12\n"
	"0x0000000000100140         16  possible     1.250s  xdup str.h:5 (inlined)\n"
	"0x0000000000100180         24  indirect     1.300s  xdup str.h:5 (inlined)\n"
	"0x0000000000100220       1024  reachable    0.001s  keep list.c:8\n"
	"0x0000000000100820         48  definite     2.000s  0x12345 (alpha+0x2345)\n"
	"0x0000000000101020         32  definite          -  (no tag)\n"
	"0x0000000000200060        200  definite     2.000s  make_buf buf.c:12\n";

static const char all_beta_color[] =
	"pid 202 /usr/bin/beta, scan at exit\n"
	"address                  size  class           age  site\n"
	"0x00007f0000001020        100  \033[1;31mdefinite \033[0m    0.100s  grow grow.c:77\n"
	"0x00007f0000002020         10  \033[33mpossible \033[0m    0.200s  0x999\n";

static void
textviews(void)
{
	View v;

	openview(&v, tracepath);
	check(view_sites, &v, sites_default, 7, "-s: every process, definite and possible");
	v.pid = 101;
	v.kinds = KINDS_ALL;
	v.maxframes = 1;
	check(view_sites, &v, sites_all, 7, "-s: pid 101, every class, one frame a site");
	v.pid = 202;
	v.kinds = KINDS_DEFAULT;
	v.maxframes = 2;
	v.color = 1;
	check(view_sites, &v, sites_color, 2, "-s: in colour, two frames a site");
	v.pid = 101;
	v.snapshot = 1;
	v.color = 0;
	v.maxframes = 0;
	check(view_sites, &v, sites_snapshot, 0, "-s: a snapshot without leaks");

	v.pid = 0;
	v.snapshot = 0;
	check(view_counts, &v, counts_default, 7, "-c: every process");
	v.pid = 101;
	v.snapshot = 1;
	v.kinds = KINDS_ALL;
	check(view_counts, &v, counts_snapshot, 1, "-c: a snapshot, every class");

	v.snapshot = 0;
	v.kinds = KINDS_DEFAULT;
	check(view_all, &v, all_alpha, 6, "-a: pid 101, by address");
	v.pid = 202;
	v.color = 1;
	check(view_all, &v, all_beta_color, 2, "-a: pid 202 in colour");
	closeview(&v);
}

/* ---- refusals -------------------------------------------------------------- */

static void
refusals(void)
{
	static const struct {
		Viewfn	fn;
		const char *name;
	} fns[] = {
		{ view_sites, "-s" },
		{ view_counts, "-c" },
		{ view_all, "-a" },
	};
	char want[2048], name[128], png[600];
	View v;
	size_t i;
	int r;

	openview(&v, emptypath);
	snprintf(want, sizeof want, "leak: %s: no reachability scans in the trace\n", emptypath);
	for (i = 0; i < nelem(fns); i++) {
		snprintf(name, sizeof name, "%s: a trace without scans", fns[i].name);
		refused(fns[i].fn, &v, want, name);
	}
	snprintf(png, sizeof png, "%s/empty.png", tmp);
	CAPTURE(r = view_picture(&v, png));
	ok(r == -1 && access(png, F_OK) < 0, "-b: a trace without scans: refused, no file");
	same(errtext, want, "-b: a trace without scans: the line");
	closeview(&v);

	openview(&v, tracepath);
	v.pid = 303;
	snprintf(want, sizeof want, "leak: %s: pid 303 has no scan at exit\n", tracepath);
	for (i = 0; i < nelem(fns); i++) {
		snprintf(name, sizeof name, "%s: a pid without scans", fns[i].name);
		refused(fns[i].fn, &v, want, name);
	}
	v.pid = 999;
	snprintf(want, sizeof want, "leak: %s: no process with pid 999 in the trace\n", tracepath);
	refused(view_sites, &v, want, "-s: a pid not in the trace");
	v.pid = 0;
	v.snapshot = 5;
	snprintf(want, sizeof want, "leak: %s: no process has a snapshot 5\n", tracepath);
	for (i = 0; i < nelem(fns); i++) {
		snprintf(name, sizeof name, "%s: a snapshot that does not exist", fns[i].name);
		refused(fns[i].fn, &v, want, name);
	}
	CAPTURE(r = view_picture(&v, png));
	ok(r == -1 && access(png, F_OK) < 0, "-b: a snapshot that does not exist: refused");
	same(errtext, want, "-b: a snapshot that does not exist: the line");
	v.pid = 202;
	v.snapshot = 1;
	snprintf(want, sizeof want, "leak: %s: pid 202 has no snapshot 1\n", tracepath);
	refused(view_counts, &v, want, "-c: pid 202 has no snapshot 1");
	closeview(&v);

	/* tables gone: the line says so, in words */
	openview(&v, damagedpath);
	snprintf(want, sizeof want, "leak: %s: cannot read blocks: the trace is damaged\n", damagedpath);
	for (i = 0; i < nelem(fns); i++) {
		snprintf(name, sizeof name, "%s: a trace without scan_blocks", fns[i].name);
		refused(fns[i].fn, &v, want, name);
	}
	CAPTURE(r = view_picture(&v, png));
	snprintf(want, sizeof want, "leak: %s: cannot read arenas: the trace is damaged\n", damagedpath);
	ok(r == -1 && access(png, F_OK) < 0, "-b: a trace without arenas: refused");
	same(errtext, want, "-b: a trace without arenas: the line");
	closeview(&v);
}

static void
cleanup(void)
{
	static const char *const names[] = {
		"trace.db", "empty.db", "damaged.db", "alpha.png", "beta.png", "out", "err",
	};
	char path[600];
	size_t i;

	for (i = 0; i < nelem(names); i++) {
		snprintf(path, sizeof path, "%s/%s", tmp, names[i]);
		unlink(path);
		snprintf(path, sizeof path, "%s/%s-wal", tmp, names[i]);
		unlink(path);
		snprintf(path, sizeof path, "%s/%s-shm", tmp, names[i]);
		unlink(path);
	}
	rmdir(tmp);
}

int
main(void)
{
	if (mkdtemp(tmp) == NULL)
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(tracepath, sizeof tracepath, "%s/trace.db", tmp);
	snprintf(emptypath, sizeof emptypath, "%s/empty.db", tmp);
	snprintf(damagedpath, sizeof damagedpath, "%s/damaged.db", tmp);
	maketrace(tracepath, rows);
	maketrace(emptypath, "");
	maketrace(damagedpath, rows);
	{
		sqlite3 *db;

		if (sqlite3_open(damagedpath, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "DROP TABLE scan_blocks; DROP TABLE arenas;", NULL, NULL, NULL) != SQLITE_OK)
			tap_bail("cannot damage %s", damagedpath);
		sqlite3_close(db);
	}

	textviews();
	pictures();
	refusals();
	cleanup();
	return tap_done();
}
