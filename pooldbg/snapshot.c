/*
 * pooldbg/snapshot.c -- `pooldbg snapshot PID`: ask a traced process for a
 * snapshot of its heap (a reachability scan, see pooldbg-malloc(3)) and
 * wait until it has taken it.
 *
 * PID is traced when its /proc/PID/maps holds libpooldbg-malloc, its
 * environment names a session directory (POOLDBG_SESSION) and that
 * directory holds a live ring of PID: "PID-N.ring" with the highest N is
 * the image running now.  The runtime catches the snapshot signal,
 * SIGRTMAX-3, when tracing starts (if the program left it at its default
 * action); /proc/PID/status says whether it is caught, so a process whose
 * default action would end it is never sent it.  The ring's header counts
 * the snapshots taken (RingHdr.snapshots, stored after a snapshot's last
 * record); this command reads it, sends the signal, and polls it every
 * POLLMS until it grows, for WAITMS at most.  A process busy in its heap
 * takes the snapshot at its next heap call, so a process that sleeps with
 * the heap lock held never answers: that is the timeout's message.
 *
 * Must never: send the signal to a process that does not catch it, or
 * touch the ring beyond reading its header.
 */
#include "pooldbg.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	WAITMS	= 5000,		/* how long the process has to take the snapshot */
	POLLMS	= 10,
};

#define SUSAGE	"usage: pooldbg snapshot PID"

/* Read up to size-1 bytes of path into buf, NUL-terminated; the count, or -1 with errno. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Whether the runtime is mapped into pid. */
static int
preloaded(int pid, int *err)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;
	int found;

	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	if ((f = fopen(path, "r")) == NULL) {
		*err = errno;
		return -1;
	}
	found = 0;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, "/libpooldbg-malloc.so") != NULL;
	fclose(f);
	return found;
}

/* The session directory in pid's environment, into dir; 0 or -1. */
static int
session(int pid, char *dir, size_t size)
{
	static char env[256 << 10];
	char path[64];
	ssize_t n;
	char *s;

	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	if ((n = slurp(path, env, sizeof env)) < 0)
		return -1;
	for (s = env; s < env + n; s += strlen(s) + 1) {
		if (strncmp(s, "POOLDBG_SESSION=", 16) == 0 && s[16] != '\0' && strlen(s + 16) < size) {
			strcpy(dir, s + 16);
			return 0;
		}
	}
	return -1;
}

/* Whether pid catches sig, by its SigCgt. */
static int
catches(int pid, int sig)
{
	char path[64], buf[8192], *s;
	unsigned long long mask;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (slurp(path, buf, sizeof buf) < 0 || (s = strstr(buf, "\nSigCgt:")) == NULL)
		return 0;
	mask = strtoull(s + 8, NULL, 16);
	return (mask >> (sig - 1) & 1) != 0;
}

/* Open pid's ring of the running image (the highest N of "PID-N.ring") into r; 0 or -1. */
static int
openring(const char *dir, int pid, Ring *r)
{
	char path[PATH_MAX], best[PATH_MAX];
	struct dirent *e;
	long seq, top;
	char *end;
	DIR *d;
	int n;

	if ((d = opendir(dir)) == NULL)
		return -1;
	top = -1;
	while ((e = readdir(d)) != NULL) {
		if (strtol(e->d_name, &end, 10) != pid || *end != '-')
			continue;
		seq = strtol(end + 1, &end, 10);
		if (strcmp(end, ".ring") != 0 || seq <= top)
			continue;
		n = snprintf(best, sizeof best, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof best)
			continue;
		top = seq;
		memcpy(path, best, sizeof path);
	}
	closedir(d);
	if (top < 0 || ring_open(r, path) < 0)
		return -1;
	if (r->hdr->pid != pid || ring_closed(r)) {
		ring_unmap(r);
		return -1;
	}
	return 0;
}

static uint32_t
count(Ring *r)
{
	return __atomic_load_n(&r->hdr->snapshots, __ATOMIC_ACQUIRE);
}

/*
 * pooldbg snapshot PID (argv[0] is "snapshot").  Prints one line and
 * returns the exit status: 0 taken, 1 not traced or no answer, 2 usage or
 * no such process.
 */
int
snapshot(int argc, char **argv)
{
	struct timespec poll = { 0, POLLMS * 1000000L };
	char dir[PATH_MAX];
	uint32_t before, now;
	char *end;
	long pid;
	Ring r;
	int sig, err, waited, st;

	if (argc != 2 || argv[1][0] == '\0') {
		say("%s; %s", argc < 2 ? "missing PID" : "one PID only", SUSAGE);
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end != '\0' || pid <= 0 || pid > INT_MAX) {
		say("'%s' is not a process id; %s", argv[1], SUSAGE);
		return 2;
	}
	err = 0;
	switch (preloaded((int)pid, &err)) {
	case -1:
		say("snapshot: process %ld: %s", pid, err == ENOENT ? "no such process" : strerror(err));
		return 2;
	case 0:
		say("snapshot: process %ld is not traced (no libpooldbg-malloc in it)", pid);
		return 1;
	}
	if (session((int)pid, dir, sizeof dir) < 0) {
		say("snapshot: process %ld is not traced (no POOLDBG_SESSION in its environment)", pid);
		return 1;
	}
	if (openring(dir, (int)pid, &r) < 0) {
		say("snapshot: process %ld is not traced (no live ring of it in %s)", pid, dir);
		return 1;
	}
	sig = SIGRTMAX - 3;
	st = 1;
	if (!catches((int)pid, sig)) {
		say("snapshot: process %ld does not catch signal %d (SIGRTMAX-3): the program keeps it "
		    "for itself", pid, sig);
		goto out;
	}
	before = count(&r);
	if (kill((pid_t)pid, sig) < 0) {
		say("snapshot: process %ld: %s", pid, strerror(errno));
		goto out;
	}
	for (waited = 0; (now = count(&r)) == before && waited < WAITMS; waited += POLLMS) {
		if (ring_closed(&r))
			break;
		nanosleep(&poll, NULL);
	}
	if (now == before) {
		say("snapshot: process %ld took no snapshot within %d seconds (%s)", pid, WAITMS / 1000,
		    ring_closed(&r) ? "it ended" : "its heap stayed busy, or it blocks the signal");
		goto out;
	}
	printf("pooldbg: snapshot %u of %ld taken\n", now, pid);
	st = 0;
out:
	ring_unmap(&r);
	return st;
}
