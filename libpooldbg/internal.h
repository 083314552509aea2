/*
 * libpooldbg/internal.h -- what the files of libpooldbg share and nobody
 * else sees.  Cross-file prototypes are grouped under the file that owns
 * them.  Nothing here is installed.
 */
#ifndef POOLDBG_INTERNAL_H
#define POOLDBG_INTERNAL_H

#include "config.h"

/* The library is built with -fvisibility=hidden; EXPORT marks the ABI. */
#define EXPORT	__attribute__((visibility("default")))

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* POOLDBG_INTERNAL_H */
