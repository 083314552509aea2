/*
 * libpooldbg/zone-runtime.c -- the zones' trace hooks in the tracing
 * runtime (libpooldbg-malloc.so): preloaded, these definitions come first
 * in the symbol lookup, so libpooldbg's zones call them instead of the
 * ones in zone-debug.c that do nothing.
 *
 * Owns the zone ids of this process image (1, 2, ... in order of
 * creation) and the REC_ZONE records; an item handed out or given back
 * is recorded by rt_alloc / rt_free as CALL_ZALLOC / CALL_ZFREE with
 * RecAlloc.zone / RecFree.zone set from rt_zone; a zone's debugging
 * report (zone_report) becomes a REC_ERROR through err_raise.
 *
 * Must never: allocate, or record when tracing is off or the thread is
 * inside the runtime.
 */
#include "internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <pooldbg/zone.h>

#include "runtime.h"

enum { MAXNAME = 64 };

__thread uint32_t rt_zone RT_TLS;
static atomic_uint nextid;

/* Write a RecZone; ids of untraced processes stay 0. */
static void
zonerec(uint32_t id, uint32_t what, const void *zone, const char *name, size_t size,
    const uma_stats *st)
{
	char buf[sizeof(RecZone) + MAXNAME + 8];
	RecZone *z;
	size_t n;
	int nested, e;

	e = errno;
	n = strnlen(name, MAXNAME - 1);
	memset(buf, 0, sizeof buf);
	z = (RecZone *)buf;
	z->h.type = REC_ZONE;
	z->h.len = REC_ALIGN(sizeof *z + n + 1);
	z->addr = (uintptr_t)zone;
	z->id = id;
	z->what = what;
	z->size = size;
	if (st != NULL) {
		z->stride = st->stride;
		z->used = st->used;
		z->free = st->free;
		z->requests = st->requests;
		z->failures = st->failures;
		z->frees = st->frees;
		z->errors = st->errors;
	}
	z->tid = rt_gettid();
	z->namelen = (uint32_t)(n + 1);
	memcpy(buf + sizeof *z, name, n);
	rt_inside++;
	nested = rt_lock();
	if (rt_ownerl()) {
		z->time = rt_now();
		rt_putl(z, z->h.len);
	}
	rt_unlock(nested);
	rt_inside--;
	errno = e;
}

/* See internal.h: traced, the zone's new id and its REC_ZONE. */
EXPORT uint32_t
pooldbg_zone_created(const void *zone, const char *name, size_t size)
{
	uint32_t id;

	if (rt_state != RT_LIVE || rt_inside)
		return 0;
	id = atomic_fetch_add(&nextid, 1) + 1;
	zonerec(id, ZONE_CREATE, zone, name, size, NULL);
	return id;
}

/* See internal.h: traced, CALL_ZALLOC or CALL_ZFREE with the zone's id. */
EXPORT void
pooldbg_zone_item(uint32_t id, int what, const void *item, size_t size)
{
	const RtFrom *from;

	if (rt_state != RT_LIVE)
		return;
	from = RT_FROMPC((uintptr_t)__builtin_return_address(0));
	rt_zone = id;
	if (what == 1)
		rt_alloc(CALL_ZALLOC, 0, item, size, 0, from);
	else
		rt_free(CALL_ZFREE, 0, item, 0, from);
	rt_zone = 0;
}

/* See internal.h: traced, REC_ZONE with the zone's last figures. */
EXPORT void
pooldbg_zone_destroyed(uint32_t id, const void *zone, const char *name, const uma_stats *st)
{
	if (rt_state != RT_LIVE || rt_inside || id == 0)
		return;
	zonerec(id, ZONE_DESTROY, zone, name, st->size, st);
}

/* See internal.h: traced, a REC_ERROR through err_raise, and 1. */
EXPORT int
pooldbg_zone_error(uint32_t id, int kind, int what, const void *ptr, const void *item, size_t size,
    size_t offset, const char *msg)
{
	unsigned flags;
	int e;

	if (rt_state != RT_LIVE || rt_inside)
		return 0;
	(void)id;
	e = errno;
	/* a write after free or a second free: the recorder shows the item's free stack */
	flags = kind == ERR_WRITE_AFTER_FREE || kind == ERR_DOUBLE_FREE ? ERRF_FREED : 0;
	err_raise(kind, what == 1 ? CALL_ZALLOC : CALL_ZFREE, ptr, item, size, (long)offset, flags,
	    item != NULL ? (const char *)item + offset : NULL, (uintptr_t)item,
	    item != NULL ? (uintptr_t)item + size : 0, msg, 0);
	errno = e;
	return 1;
}
