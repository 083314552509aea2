/*
 * libpooldbg/runtime-modules.c -- the module map of the traced image: a
 * REC_MODULE for every loaded object (path, load bias, PT_LOAD span, GNU
 * build-id) and a REC_UNLOAD when one goes away.
 *
 * The table of known modules is compared with dl_iterate_phdr's list at
 * the start of each ring, around every dlclose, and whenever a new stack
 * node holds a PC outside every known module while the loader reports
 * objects added since the last look (dlpi_adds).  So a module enters the
 * trace before the first frame that points into it, whoever loaded it
 * (dlopen by the program, the C library's own loads for NSS or iconv).
 * dlopen itself is not interposed: the loader looks at its caller's
 * RPATH/RUNPATH, which a wrapper would change.
 *
 * Must never: allocate, or run without the ring lock held (the table is
 * guarded by it); modules_bounds alone needs no lock.
 */
#include "internal.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

enum {
	MAXMODS		= 4096,
	MAXBUILDID	= 64,
};

typedef struct Mod Mod;
struct Mod {
	uintptr_t base, lo, hi;
	int	mark;		/* seen in the scan under way */
};

static Mod mods[MAXMODS];
static int nmods;
static unsigned long long lastadds;	/* dlpi_adds at the last scan */

/* The PT_LOAD span of an object. */
static void
span(struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	const ElfW(Phdr) *ph;
	uintptr_t a, b;
	int i;

	*lo = UINTPTR_MAX;
	*hi = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		a = info->dlpi_addr + ph->p_vaddr;
		b = a + ph->p_memsz;
		if (a < *lo)
			*lo = a;
		if (b > *hi)
			*hi = b;
	}
	if (*hi == 0)
		*lo = 0;
}

/* Copy the GNU build-id of an object into id; its length, or 0. */
static size_t
buildid(struct dl_phdr_info *info, uint8_t *id)
{
	const ElfW(Phdr) *ph;
	const ElfW(Nhdr) *nh;
	const char *p, *end;
	size_t n;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof *nh <= end) {
			nh = (const ElfW(Nhdr) *)p;
			p += sizeof *nh;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(p, "GNU", 4) == 0) {
				n = nh->n_descsz > MAXBUILDID ? MAXBUILDID : nh->n_descsz;
				memcpy(id, p + 4, n);
				return n;
			}
			p += (nh->n_namesz + 3) & ~3u;
			p += (nh->n_descsz + 3) & ~3u;
		}
	}
	return 0;
}

static void
putmodule(struct dl_phdr_info *info, int first, uintptr_t lo, uintptr_t hi)
{
	static char buf[sizeof(RecModule) + MAXBUILDID + PATH_MAX + 16];
	RecModule *m;
	size_t idlen, plen, len;
	ssize_t r;
	char *path;

	m = (RecModule *)buf;
	idlen = buildid(info, (uint8_t *)buf + sizeof *m);
	path = buf + sizeof *m + idlen;
	if (first && (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')) {
		r = readlink("/proc/self/exe", path, PATH_MAX - 1);
		plen = r > 0 ? (size_t)r : 0;
	} else {
		plen = info->dlpi_name != NULL ? strlen(info->dlpi_name) : 0;
		if (plen > PATH_MAX - 1)
			plen = PATH_MAX - 1;
		memcpy(path, info->dlpi_name, plen);
	}
	path[plen++] = '\0';
	len = sizeof *m + idlen + plen;
	memset(buf + len, 0, REC_ALIGN(len) - len);
	m->h.type = REC_MODULE;
	m->h.len = REC_ALIGN(len);
	m->time = rt_now();
	m->base = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	m->buildidlen = (uint32_t)idlen;
	m->pathlen = (uint32_t)plen;
	rt_putl(m, m->h.len);
}

static int
scanone(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *first = arg;
	uintptr_t lo, hi;
	int i;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) && *first)
		lastadds = info->dlpi_adds;
	span(info, &lo, &hi);
	for (i = 0; i < nmods; i++)
		if (mods[i].base == info->dlpi_addr && mods[i].lo == lo && mods[i].hi == hi)
			break;
	if (i < nmods)
		mods[i].mark = 1;
	else if (hi != 0) {
		putmodule(info, *first, lo, hi);
		if (nmods < MAXMODS)
			mods[nmods++] = (Mod){ info->dlpi_addr, lo, hi, 1 };
	}
	*first = 0;
	return 0;
}

/* Forget every module; lock held (or a single-threaded fork child). */
void
modules_reset(void)
{
	nmods = 0;
	lastadds = 0;
}

/* REC_MODULE for objects not in the table, REC_UNLOAD for those gone; lock held. */
void
modules_scanl(void)
{
	RecUnload u;
	int i, j, first;

	first = 1;
	dl_iterate_phdr(scanone, &first);
	for (i = j = 0; i < nmods; i++) {
		if (!mods[i].mark) {
			u.h.type = REC_UNLOAD;
			u.h.len = sizeof u;
			u.time = rt_now();
			u.base = mods[i].base;
			u.lo = mods[i].lo;
			rt_putl(&u, sizeof u);
			continue;
		}
		mods[i].mark = 0;
		mods[j++] = mods[i];
	}
	nmods = j;
}

static int
addsone(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *adds = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs))
		*adds = info->dlpi_adds;
	return 1;
}

/* Rescan when pc lies in no known module and the loader added objects since; lock held. */
void
modules_notepcl(uintptr_t pc)
{
	unsigned long long adds;
	int i;

	for (i = 0; i < nmods; i++)
		if (pc >= mods[i].lo && pc < mods[i].hi)
			return;
	adds = lastadds;
	dl_iterate_phdr(addsone, &adds);
	if (adds != lastadds)
		modules_scanl();
}

typedef struct Find Find;
struct Find {
	uintptr_t addr, lo, hi;
};

static int
findone(struct dl_phdr_info *info, size_t size, void *arg)
{
	Find *f = arg;
	uintptr_t lo, hi;

	(void)size;
	span(info, &lo, &hi);
	if (f->addr >= lo && f->addr < hi) {
		f->lo = lo;
		f->hi = hi;
		return 1;
	}
	return 0;
}

/* The PT_LOAD span of the object holding addr; 0, or -1 if none.  No lock needed. */
int
modules_bounds(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
	Find f;

	f.addr = (uintptr_t)addr;
	f.lo = f.hi = 0;
	if (dl_iterate_phdr(findone, &f) == 0)
		return -1;
	*lo = f.lo;
	*hi = f.hi;
	return 0;
}
