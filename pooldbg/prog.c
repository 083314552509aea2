/*
 * pooldbg/prog.c -- the program pooldbg is asked to run, before it runs:
 * finding it as a shell would, refusing what LD_PRELOAD cannot reach (a
 * setuid or setgid file, a statically linked executable, an interpreter
 * script whose interpreter is one of those), and finding the runtime
 * library to preload.
 *
 * Must never: create files or start anything; every refusal is one line
 * and an exit status, said before the trace exists.
 */
#include "pooldbg.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RUNTIME_SO	"libpooldbg-malloc.so"

enum { ELF_DYNAMIC, ELF_STATIC, ELF_SCRIPT, ELF_OTHER };

/*
 * What kind of file path is: a dynamically linked ELF executable (has
 * PT_INTERP), a static one, a "#!" script (its interpreter into interp),
 * or something else (left to execve to judge).
 */
static int
filekind(const char *path, char *interp, size_t len)
{
	unsigned char buf[256];
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	Elf64_Phdr p64;
	Elf32_Phdr p32;
	uint64_t off, phoff;
	unsigned phnum, phentsize, i, type;
	size_t n, k;
	ssize_t got;
	int fd, kind;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ELF_OTHER;
	kind = ELF_OTHER;
	got = pread(fd, buf, sizeof buf - 1, 0);
	if (got >= 2 && buf[0] == '#' && buf[1] == '!') {
		buf[got] = '\0';
		for (n = 2; buf[n] == ' ' || buf[n] == '\t'; n++)
			;
		for (k = 0; buf[n] != '\0' && buf[n] != ' ' && buf[n] != '\t' && buf[n] != '\n' &&
		    k + 1 < len; n++)
			interp[k++] = (char)buf[n];
		interp[k] = '\0';
		kind = k > 0 ? ELF_SCRIPT : ELF_OTHER;
		goto out;
	}
	if (got < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		goto out;
	if (buf[EI_CLASS] == ELFCLASS64 && (size_t)got >= sizeof e64) {
		memcpy(&e64, buf, sizeof e64);
		phoff = e64.e_phoff;
		phnum = e64.e_phnum;
		phentsize = e64.e_phentsize;
		if (phentsize < sizeof p64)
			goto out;
	} else if (buf[EI_CLASS] == ELFCLASS32 && (size_t)got >= sizeof e32) {
		memcpy(&e32, buf, sizeof e32);
		phoff = e32.e_phoff;
		phnum = e32.e_phnum;
		phentsize = e32.e_phentsize;
		if (phentsize < sizeof p32)
			goto out;
	} else
		goto out;
	kind = ELF_STATIC;
	for (i = 0; i < phnum && i < 4096; i++) {
		off = phoff + (uint64_t)i * phentsize;
		if (buf[EI_CLASS] == ELFCLASS64) {
			if (pread(fd, &p64, sizeof p64, (off_t)off) != (ssize_t)sizeof p64)
				break;
			type = p64.p_type;
		} else {
			if (pread(fd, &p32, sizeof p32, (off_t)off) != (ssize_t)sizeof p32)
				break;
			type = p32.p_type;
		}
		if (type == PT_INTERP) {
			kind = ELF_DYNAMIC;
			break;
		}
	}
out:
	close(fd);
	return kind;
}

/*
 * Whether running path would grant this process capabilities it lacks, so
 * that the kernel asks the dynamic loader for secure execution, which
 * ignores LD_PRELOAD: a file with capabilities in its permitted set, run
 * by a user other than root (root's are full already).  The set is the
 * security.capability attribute (vfs_cap_data: a magic word, then the
 * permitted and inheritable words of each 32 capabilities, little-endian).
 */
static int
capsgranted(const char *path)
{
	unsigned char v[24];
	ssize_t n;
	int i;

	if (getuid() == 0 && geteuid() == 0)
		return 0;
	n = getxattr(path, "security.capability", v, sizeof v);
	if (n < 12)
		return 0;
	for (i = 4; i + 4 <= n && i < 20; i += 8)	/* permitted words at 4 and 12 */
		if ((v[i] | v[i + 1] | v[i + 2] | v[i + 3]) != 0)
			return 1;
	return 0;
}

/*
 * Check that the file at path (found under the name name) can be exec'd
 * and preloaded; depth bounds the chain of interpreters.  0 or an exit
 * status after one line.
 */
static int
checkfile(const char *name, const char *path, int depth)
{
	char interp[PATH_MAX];
	struct stat sb;

	if (stat(path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			say("%s: no such file", name);
			return 127;
		}
		say("%s: %s", name, strerror(errno));
		return 126;
	}
	if (S_ISDIR(sb.st_mode)) {
		say("%s: is a directory", name);
		return 126;
	}
	if (!S_ISREG(sb.st_mode)) {
		say("%s: not a regular file", name);
		return 126;
	}
	if (access(path, X_OK) < 0) {
		say("%s: not executable: %s", name, strerror(errno));
		return 126;
	}
	if ((sb.st_mode & (S_ISUID | S_ISGID)) != 0) {
		say("%s: a set-user-ID or set-group-ID program: the dynamic loader would not preload "
		    "the runtime into it, so nothing could be recorded", name);
		return 2;
	}
	if (capsgranted(path)) {
		say("%s: has file capabilities: the dynamic loader would not preload the runtime "
		    "into it, so nothing could be recorded", name);
		return 2;
	}
	switch (filekind(path, interp, sizeof interp)) {
	case ELF_STATIC:
		say("%s: statically linked: the runtime cannot be preloaded into it, "
		    "so nothing could be recorded", name);
		return 2;
	case ELF_SCRIPT:
		if (depth >= 4 || interp[0] != '/')
			return 0;	/* let execve say what it thinks */
		return checkfile(interp, interp, depth + 1) == 2 ? 2 : 0;
	default:
		return 0;
	}
}

int
prog_find(const char *name, char *path, size_t len)
{
	const char *p, *e, *dirs;
	size_t n;
	int denied;

	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= len) {
			say("%s: %s", name, strerror(ENAMETOOLONG));
			return 126;
		}
		strcpy(path, name);
		return checkfile(name, path, 0);
	}
	if ((dirs = getenv("PATH")) == NULL)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	denied = 0;
	for (p = dirs;; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		/* an empty entry is the current directory */
		if (snprintf(path, len, "%.*s%s%s", (int)n, p, n > 0 ? "/" : "", name) < (int)len &&
		    access(path, F_OK) == 0) {
			struct stat sb;

			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0)
				return checkfile(name, path, 0);
			denied = 1;
		}
		if (*e == '\0')
			break;
	}
	if (denied) {
		say("%s: not executable: %s", name, strerror(EACCES));
		return 126;
	}
	say("%s: command not found", name);
	return 127;
}

/* The runtime beside this binary in a build tree: <top>/libpooldbg/.libs/. */
static int
buildtree(char *path, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	/* <top>/pooldbg/pooldbg, or a libtool copy in <top>/pooldbg/.libs/ */
	if ((slash = strrchr(exe, '/')) == NULL)
		return -1;
	*slash = '\0';
	if ((slash = strrchr(exe, '/')) != NULL && strcmp(slash + 1, ".libs") == 0) {
		*slash = '\0';
		slash = strrchr(exe, '/');
	}
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(path, len, "%s/libpooldbg/.libs/%s", exe, RUNTIME_SO) >= (int)len)
		return -1;
	return access(path, R_OK);
}

int
prog_preload(char *path, size_t len)
{
	const char *s;

	if ((s = getenv("POOLDBG_PRELOAD")) != NULL && *s != '\0') {
		if (snprintf(path, len, "%s", s) >= (int)len) {
			say("POOLDBG_PRELOAD: %s", strerror(ENAMETOOLONG));
			return 2;
		}
		if (access(path, R_OK) < 0) {
			say("POOLDBG_PRELOAD: %s: %s", s, strerror(errno));
			return 2;
		}
		if (strchr(path, ' ') != NULL || strchr(path, ':') != NULL) {
			say("POOLDBG_PRELOAD: %s: LD_PRELOAD cannot carry a path with ' ' or ':'", s);
			return 2;
		}
		return 0;
	}
	/* a build tree's own runtime first: never preload an older installed one into its tests */
	if (buildtree(path, len) == 0)
		return 0;
	if (snprintf(path, len, "%s/%s", POOLDBG_LIBDIR, RUNTIME_SO) < (int)len &&
	    access(path, R_OK) == 0)
		return 0;
	say("cannot find the runtime %s (looked in %s and beside this pooldbg); "
	    "set POOLDBG_PRELOAD to its path", RUNTIME_SO, POOLDBG_LIBDIR);
	return 2;
}
