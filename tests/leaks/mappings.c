/*
 * tests/leaks/mappings.c -- roots in memory the program mapped itself:
 * a private, writable mapping of /dev/zero (plain memory, though a device
 * file) holds a 654-byte block, and one of a file under /dev/shm (a
 * regular file, then unlinked) a 321-byte block.  Both reachable,
 * nothing lost.  (Shared mappings are no roots for the scan, unlike
 * memcheck, which reads them too; so no case of them here, where
 * valgrind's answer must be ours.)
 *
 * Deterministic: the mappings' addresses are kept in globals, the blocks'
 * pointers only in the mappings and in map()'s frame, zeroed by clobber()
 * before main returns.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "leaks.h"

void **zero, **shm;

static NOINLINE int
map(void)
{
	char name[64];
	int fd;

	if ((fd = open("/dev/zero", O_RDWR)) < 0)
		return -1;
	zero = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	snprintf(name, sizeof name, "/dev/shm/pooldbg-leaks-%d", (int)getpid());
	if ((fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	unlink(name);
	if (ftruncate(fd, 4096) < 0)
		return -1;
	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (zero == MAP_FAILED || shm == MAP_FAILED)
		return -1;
	zero[5] = malloc(654);
	block(zero[5], "reachable");
	shm[7] = malloc(321);
	block(shm[7], "reachable");
	return 0;
}

int
main(void)
{
	if (map() < 0)
		return 1;
	expect(0, 0, 0, 0, 0, 0);
	clobber();
	return 0;
}
