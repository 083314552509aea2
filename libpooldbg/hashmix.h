/*
 * libpooldbg/hashmix.h -- the one integer mixer of the tools' hash tables
 * (the recorder's time index, leak's and poolview's tables, the runtime's
 * set of the pointers freed before it started): MurmurHash3's 64-bit
 * finalizer, shortened to one round, which spreads addresses and small ids
 * well enough for open addressing with a power-of-two mask.
 *
 * Header only: nothing to link, so the runtime inside a traced process
 * may use it too.
 */
#ifndef POOLDBG_HASHMIX_H
#define POOLDBG_HASHMIX_H

#include <stdint.h>

static inline uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

#endif /* POOLDBG_HASHMIX_H */
