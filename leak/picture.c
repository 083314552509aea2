/*
 * leak/picture.c -- leak -b: a picture of one process's heap as of one
 * scan, as a PNG file.
 *
 * Each arena of the scan (table arenas) is laid out from its first byte
 * in rows of WIDTH pixels, a few bytes a pixel, and starts a band of rows
 * of its own; a white row parts two arenas and white pads the last row of
 * each.  The colours are those of the Plan 9 leak(1) picture, with shades
 * for the classes it did not know:
 *
 *	bright red	a leaked block's header, tags and tail (slack, guard, tail)
 *	bright blue	the same of a reachable block
 *	dark red	the caller's bytes of a definitely lost block
 *	purple		of an indirectly lost block
 *	orange		of a possibly lost block
 *	dark blue	of a reachable block
 *	yellow		free: bytes of the arena in no allocated block
 *	white		padding
 *
 * A pixel that holds bytes of several kinds takes the colour listed first,
 * so headers stand out (each bright pixel is a block) and a leak is never
 * hidden by free space.
 *
 * The image is 8-bit palette PNG: zlib deflates the rows and sums the
 * chunks (crc32).  Rows are drawn one arena at a time, so memory is one
 * arena's band; the scale keeps the picture to a few thousand rows.
 *
 * Must never: write to the trace, or leave a partial file at the path
 * (a path that is no regular file, /dev/stdout say, is written, never removed).
 */
#include "leak.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

enum {
	WIDTH		= 512,		/* pixels of a row (Plan 9's -x default) */
	MINSCALE	= 8,		/* bytes a pixel at least (Plan 9's -r default) */
	TARGETROWS	= 4096,		/* the scale doubles until the picture has no more rows */
	MAXROWS		= 65536,	/* more than this: refused (a damaged trace, or 65536 arenas) */
	ZBUF		= 65536,	/* bytes of one IDAT chunk at most */
};

/* Pixel values: palette indexes, and the order in which one kind of byte wins a pixel. */
enum {
	PIX_PAD, PIX_FREE, PIX_REACHABLE, PIX_POSSIBLE, PIX_INDIRECT, PIX_DEFINITE,
	PIX_HEADER, PIX_LEAKHEADER, NPIX
};

static const struct {
	uint8_t	rgb[3];
	const char *legend;
} palette[NPIX] = {
	[PIX_PAD]	= { { 0xff, 0xff, 0xff }, "white padding" },
	[PIX_FREE]	= { { 0xff, 0xff, 0x00 }, "yellow free" },
	[PIX_REACHABLE]	= { { 0x00, 0x00, 0x8b }, "dark blue reachable" },
	[PIX_POSSIBLE]	= { { 0xff, 0x8c, 0x00 }, "orange possible" },
	[PIX_INDIRECT]	= { { 0x80, 0x00, 0x80 }, "purple indirect" },
	[PIX_DEFINITE]	= { { 0x8b, 0x00, 0x00 }, "dark red definite" },
	[PIX_HEADER]	= { { 0x1e, 0x90, 0xff }, "bright blue those of reachable blocks" },
	[PIX_LEAKHEADER] = { { 0xff, 0x00, 0x00 }, "bright red headers and tails of leaked blocks" },
};

typedef struct Arena Arena;
struct Arena {
	uint64_t base;
	uint64_t size;
	uint64_t rows;		/* of its band at the chosen scale */
};

/* The PNG being written. */
typedef struct Png Png;
struct Png {
	FILE	*f;
	z_stream z;
	int	zopen;		/* deflateInit succeeded */
	int	regular;	/* the path is a regular file: removed if writing fails */
	int	isstdout;	/* the path is our standard output: the legend goes to stderr */
	int	bad;		/* a write failed, or deflate did */
	int	err;		/* errno of the first failed write; 0: none */
	uint8_t	row[1 + WIDTH];	/* filter byte (0: none) and one row of pixels */
	uint8_t	out[ZBUF];	/* deflate's output, not yet in a chunk */
};

/* One allocated block of the scan, as drawn. */
typedef struct Blk Blk;
struct Blk {
	uint64_t b0, b1;	/* the pool block */
	uint64_t u0, u1;	/* the caller's bytes, within it */
	int	body, header;	/* PIX_* of each */
};

static void
put32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

/* A write failed: keep the first reason. */
static void
failed(Png *p)
{
	if (!p->bad)
		p->err = errno;
	p->bad = 1;
}

/* One chunk: length, type, data, the CRC of type and data. */
static void
chunk(Png *p, const char *type, const uint8_t *data, size_t len)
{
	uint8_t word[4];
	uLong crc;

	put32(word, (uint32_t)len);
	if (fwrite(word, 1, 4, p->f) != 4 || fwrite(type, 1, 4, p->f) != 4 ||
	    (len > 0 && fwrite(data, 1, len, p->f) != len))
		failed(p);
	crc = crc32(0L, (const Bytef *)type, 4);
	if (len > 0)
		crc = crc32(crc, data, (uInt)len);
	put32(word, (uint32_t)crc);
	if (fwrite(word, 1, 4, p->f) != 4)
		failed(p);
}

/* Deflate n bytes at data (flush: Z_NO_FLUSH, or Z_FINISH for the end), writing IDAT chunks as the output fills. */
static void
zwrite(Png *p, const uint8_t *data, size_t n, int flush)
{
	int rc;

	p->z.next_in = (Bytef *)(uintptr_t)data;
	p->z.avail_in = (uInt)n;
	for (;;) {
		rc = deflate(&p->z, flush);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			p->bad = 1;
			return;
		}
		if (p->z.avail_out == 0 || (rc == Z_STREAM_END && p->z.avail_out < ZBUF)) {
			chunk(p, "IDAT", p->out, ZBUF - p->z.avail_out);
			p->z.next_out = p->out;
			p->z.avail_out = ZBUF;
		}
		if (flush == Z_FINISH ? rc == Z_STREAM_END : p->z.avail_in == 0)
			return;
	}
}

/* One row of pixels (WIDTH of them) into the image. */
static void
putrow(Png *p, const uint8_t *pix)
{
	p->row[0] = 0;
	memcpy(p->row + 1, pix, WIDTH);
	zwrite(p, p->row, sizeof p->row, Z_NO_FLUSH);
}

/* The signature, IHDR and PLTE of a WIDTH x height picture; opens the deflate stream. */
static int
pngstart(Png *p, uint32_t height)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13], plte[3 * NPIX];
	int i;

	if (fwrite(sig, 1, sizeof sig, p->f) != sizeof sig)
		failed(p);
	put32(ihdr, WIDTH);
	put32(ihdr + 4, height);
	ihdr[8] = 8;		/* bits a pixel */
	ihdr[9] = 3;		/* colour type: palette */
	ihdr[10] = 0;		/* deflate */
	ihdr[11] = 0;		/* adaptive filtering (every row: none) */
	ihdr[12] = 0;		/* not interlaced */
	chunk(p, "IHDR", ihdr, sizeof ihdr);
	for (i = 0; i < NPIX; i++)
		memcpy(plte + 3 * i, palette[i].rgb, 3);
	chunk(p, "PLTE", plte, sizeof plte);
	if (deflateInit(&p->z, Z_DEFAULT_COMPRESSION) != Z_OK)
		return -1;
	p->zopen = 1;
	p->z.next_out = p->out;
	p->z.avail_out = ZBUF;
	return 0;
}

/* The last IDAT and IEND. */
static void
pngend(Png *p)
{
	zwrite(p, NULL, 0, Z_FINISH);
	chunk(p, "IEND", NULL, 0);
}

/* The arenas of scan into *arenas (the caller frees it): how many, or -1 after the error line. */
static long
getarenas(const View *v, const Scan *sc, Arena **arenas)
{
	sqlite3_stmt *st;
	Arena *a, *na;
	int64_t base, size;
	size_t n, max;
	int rc;

	*arenas = NULL;
	a = NULL;
	n = max = 0;
	if (sqlite3_prepare_v2(v->db, "SELECT base, size FROM arenas WHERE scan = ?1 ORDER BY base",
	    -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "arenas");
		return -1;
	}
	sqlite3_bind_int64(st, 1, sc->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		base = sqlite3_column_int64(st, 0);
		size = sqlite3_column_int64(st, 1);
		if (size <= 0 || base < 0 || base > INT64_MAX - size)
			continue;	/* nothing to draw, or not an address */
		if (n == max) {
			max = max != 0 ? 2 * max : 16;
			if ((na = realloc(a, max * sizeof *na)) == NULL) {
				view_error(v, "out of memory");
				goto fail;
			}
			a = na;
		}
		a[n].base = (uint64_t)base;
		a[n].size = (uint64_t)size;
		a[n].rows = 0;
		n++;
	}
	if (rc != SQLITE_DONE) {
		view_dberror(v, "arenas");
		goto fail;
	}
	sqlite3_finalize(st);
	*arenas = a;
	return (long)n;

fail:
	sqlite3_finalize(st);
	free(a);
	return -1;
}

/* Rows of the whole picture at scale bytes a pixel, setting each arena's. */
static uint64_t
layout(Arena *a, long n, uint64_t scale)
{
	uint64_t rows, perrow;
	long i;

	perrow = scale * WIDTH;
	rows = (uint64_t)(n - 1);	/* the white rows between arenas */
	for (i = 0; i < n; i++) {
		a[i].rows = a[i].size / perrow + (a[i].size % perrow != 0);
		rows += a[i].rows;
	}
	return rows;
}

/* Read the next block of the statement into b; 1, 0 at the end, -1 if the trace could not be read. */
static int
nextblock(sqlite3_stmt *st, Blk *b)
{
	int64_t block, bsize, ptr, size;
	int rc, c;

	for (;;) {
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			return rc == SQLITE_DONE ? 0 : -1;
		ptr = sqlite3_column_int64(st, 2);
		size = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 0) == SQLITE_NULL || sqlite3_column_type(st, 1) == SQLITE_NULL) {
			block = ptr;	/* no pool block known: the caller's bytes only */
			bsize = size;
		} else {
			block = sqlite3_column_int64(st, 0);
			bsize = sqlite3_column_int64(st, 1);
		}
		if (block < 0 || bsize <= 0 || block > INT64_MAX - bsize)
			continue;	/* not a block: a damaged row */
		b->b0 = (uint64_t)block;
		b->b1 = (uint64_t)block + (uint64_t)bsize;
		/* the caller's bytes, kept inside the block */
		b->u0 = ptr < block ? b->b0 : (uint64_t)ptr > b->b1 ? b->b1 : (uint64_t)ptr;
		b->u1 = size <= 0 || (uint64_t)size > b->b1 - b->u0 ? b->b1 : b->u0 + (uint64_t)size;
		if (size <= 0)
			b->u1 = b->u0;
		c = 0;
		if (sqlite3_column_text(st, 4) != NULL) {
			const char *cls = (const char *)sqlite3_column_text(st, 4);

			c = strcmp(cls, "definite") == 0 ? CLASS_DEFINITE :
			    strcmp(cls, "indirect") == 0 ? CLASS_INDIRECT :
			    strcmp(cls, "possible") == 0 ? CLASS_POSSIBLE : CLASS_REACHABLE;
		}
		b->body = c == CLASS_DEFINITE ? PIX_DEFINITE : c == CLASS_INDIRECT ? PIX_INDIRECT :
		    c == CLASS_POSSIBLE ? PIX_POSSIBLE : PIX_REACHABLE;
		b->header = b->body == PIX_REACHABLE ? PIX_HEADER : PIX_LEAKHEADER;
		return 1;
	}
}

/* Paint bytes [x0, x1) of arena a, whose band is pix, with value, where value is the greater. */
static void
paint(uint8_t *pix, const Arena *a, uint64_t scale, uint64_t x0, uint64_t x1, int value)
{
	uint64_t p, p1, end;

	end = a->base + a->size;
	if (x0 < a->base)
		x0 = a->base;
	if (x1 > end)
		x1 = end;
	if (x0 >= x1)
		return;
	p1 = (x1 - 1 - a->base) / scale;
	for (p = (x0 - a->base) / scale; p <= p1; p++)
		if (pix[p] < value)
			pix[p] = (uint8_t)value;
}

/*
 * Draw every arena into the image: blocks in address order against
 * arenas in address order.  0, or -1 after the error line.
 */
static int
draw(const View *v, const Scan *sc, const Arena *a, long n, uint64_t scale, Png *p)
{
	static const char sql[] =
	    "SELECT block, bsize, ptr, size, class FROM scan_blocks WHERE scan = ?1"
	    " ORDER BY coalesce(block, ptr)";
	static const uint8_t padrow[WIDTH];	/* PIX_PAD is 0 */
	sqlite3_stmt *st;
	uint8_t *pix;
	uint64_t npix, r;
	Blk b;
	long i;
	int have, rc;

	pix = NULL;
	rc = -1;
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "blocks");
		return -1;
	}
	sqlite3_bind_int64(st, 1, sc->id);
	if ((have = nextblock(st, &b)) < 0)
		goto dberr;
	for (i = 0; i < n; i++) {
		if (i > 0)
			putrow(p, padrow);
		free(pix);
		if ((pix = malloc(a[i].rows * WIDTH)) == NULL) {
			view_error(v, "out of memory");
			goto done;
		}
		npix = a[i].size / scale + (a[i].size % scale != 0);
		memset(pix, PIX_FREE, npix);
		memset(pix + npix, PIX_PAD, a[i].rows * WIDTH - npix);
		for (; have > 0 && b.b0 < a[i].base + a[i].size; have = nextblock(st, &b)) {
			paint(pix, &a[i], scale, b.b0, b.u0, b.header);
			paint(pix, &a[i], scale, b.u0, b.u1, b.body);
			paint(pix, &a[i], scale, b.u1, b.b1, b.header);
		}
		if (have < 0)
			goto dberr;
		for (r = 0; r < a[i].rows; r++)
			putrow(p, pix + r * WIDTH);
	}
	rc = 0;
	goto done;

dberr:
	view_dberror(v, "blocks");
done:
	free(pix);
	sqlite3_finalize(st);
	return rc;
}

/* The one line saying what the picture shows: on stdout, unless the picture went there. */
static void
legend(FILE *out, const char *path, const Scan *sc, long n, uint64_t bytes, uint64_t rows,
    uint64_t scale)
{
	int i;

	fprintf(out, "%s: %dx%" PRIu64 " pixels, %" PRIu64 " bytes a pixel: %ld arena%s of %" PRIu64
	    " bytes, ", path, WIDTH, rows, scale, n, n == 1 ? "" : "s", bytes);
	view_heading(sc, out);
	fprintf(out, ";");
	for (i = NPIX - 1; i >= 0; i--)
		fprintf(out, " %s%s", palette[i].legend, i > 0 ? "," : "\n");
}

int
view_picture(const View *v, const char *path)
{
	Scan *sc;
	Arena *a;
	Png *p;
	struct stat st, so;
	uint64_t scale, rows, bytes;
	long n, i;
	int rc;

	a = NULL;
	p = NULL;
	rc = -1;
	if (view_scans(v, &sc) < 0)
		return -1;
	if ((n = getarenas(v, &sc[0], &a)) < 0)
		goto done;
	if (n == 0) {
		view_error(v, "pid %d: the scan has no arenas to draw", sc[0].pid);
		goto done;
	}
	for (bytes = 0, i = 0; i < n; i++)
		bytes += a[i].size;
	for (scale = MINSCALE; (rows = layout(a, n, scale)) > TARGETROWS && scale < (1ULL << 40);)
		scale *= 2;
	if (rows > MAXROWS) {
		view_error(v, "pid %d: %ld arenas are too many to draw", sc[0].pid, n);
		goto done;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		view_error(v, "out of memory");
		goto done;
	}
	if ((p->f = fopen(path, "wb")) == NULL) {
		view_error(v, "cannot create %s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fileno(p->f), &st) == 0) {
		p->regular = S_ISREG(st.st_mode);
		p->isstdout = fstat(STDOUT_FILENO, &so) == 0 && so.st_dev == st.st_dev &&
		    so.st_ino == st.st_ino;
	}
	if (pngstart(p, (uint32_t)rows) < 0) {
		view_error(v, "out of memory");
		goto done;
	}
	if (draw(v, &sc[0], a, n, scale, p) < 0)
		goto done;
	pngend(p);
	if (p->bad || ferror(p->f)) {
		view_error(v, "cannot write %s: %s", path, p->err != 0 ? strerror(p->err) : "write error");
		goto done;
	}
	rc = 0;

done:
	if (p != NULL) {
		if (p->zopen)
			deflateEnd(&p->z);
		if (p->f != NULL && fclose(p->f) != 0 && rc == 0) {
			view_error(v, "cannot write %s: %s", path, strerror(errno));
			rc = -1;
		}
		if (p->f != NULL && rc < 0 && p->regular)
			unlink(path);
	}
	if (rc == 0)
		legend(p->isstdout ? stderr : stdout, path, &sc[0], n, bytes, rows, scale);
	free(p);
	free(a);
	free(sc);
	return rc;
}
