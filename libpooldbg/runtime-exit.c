/*
 * libpooldbg/runtime-exit.c -- every way a traced image ends or splits:
 * exit and return from main, _exit/_Exit, fatal signals (abort included),
 * exec, fork, and dlclose (the module map shrinks).
 *
 * Normal exit: an on_exit handler registered by the constructor.  Since
 * the constructor of a preloaded library runs before the C library
 * registers the destructors' runner, the handler runs after every
 * atexit handler and every destructor and is given the status -- of
 * exit() and of a return from main alike -- so no exit wrapper is needed.
 * _exit and _Exit are interposed.  Each of them checks the freed blocks
 * (runtime-quarantine.c), then runs the exit scan
 * (runtime-snap.c) before REC_EXIT.  Fatal signals whose disposition is
 * SIG_DFL when the runtime starts get a handler that scans if it can
 * without waiting, writes REC_EXIT, restores SIG_DFL and raises the
 * signal again, so the process still dies of it (core dump included); a
 * signal the program ignores or handles itself is left alone.  exec: REC_EXIT(EXIT_EXEC) and the ring closed
 * before the real call, a new ring if it returns.  fork: the child drops
 * the parent's ring without touching it and opens its own (forked = 1)
 * with a fresh trie and module map.
 *
 * Only the process that created the ring closes it: a vfork child (which
 * shares the parent's memory) that execs or _exits leaves it alone.
 *
 * Must never: allocate in a signal handler or on the exec path (it runs
 * in vfork children), or export anything but the interposed calls.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cfi-unwind.h"
#include "runtime.h"

extern char **environ;

static int	(*realexecve)(const char *, char *const[], char *const[]);
static int	(*realexecvp)(const char *, char *const[]);
static int	(*realexecvpe)(const char *, char *const[], char *const[]);
static int	(*realfexecve)(int, char *const[], char *const[]);
static int	(*realdlclose)(void *);

static const int fatalsigs[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1,
	SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU, SIGXFSZ,
	SIGVTALRM, SIGPROF, SIGPWR, SIGSYS,
};

/* ---- exit --------------------------------------------------------------- */

static void
onexit(int status, void *arg)
{
	(void)arg;
	quarantine_atexit();
	snap_atexit();
	rt_finish(EXIT_NORMAL, status);
}

/* _exit: the exit scan, REC_EXIT(EXIT_UNDERSCORE, status), the ring closed, then the process ends. */
EXPORT void
_exit(int status)
{
	quarantine_atexit();
	snap_atexit();
	rt_finish(EXIT_UNDERSCORE, status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/* _Exit: as _exit. */
EXPORT void
_Exit(int status)
{
	quarantine_atexit();
	snap_atexit();
	rt_finish(EXIT_UNDERSCORE, status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/* ---- fatal signals ------------------------------------------------------ */

static void
onsignal(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction sa;
	int e;

	(void)si;
	e = errno;
	snap_onsignal(ctx);
	rt_finish(EXIT_SIGNAL, sig);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	/* blocked while this handler runs: delivered, now fatal, when it returns */
	syscall(SYS_tgkill, (long)getpid(), (long)syscall(SYS_gettid), (long)sig);
	errno = e;
}

static void
catchsignals(void)
{
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onsignal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nelem(fatalsigs); i++) {
		if (sigaction(fatalsigs[i], NULL, &old) < 0)
			continue;
		if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
			sigaction(fatalsigs[i], &sa, NULL);
	}
}

/* ---- fork --------------------------------------------------------------- */

static void
forkchild(void)
{
	cfi_forked();
	rt_reopen(1);
}

/* ---- exec --------------------------------------------------------------- */

/* Find the C library's exec calls and dlclose, once; called by the constructor (never a vfork child). */
void
exit_resolve(void)
{
	if (realexecve != NULL)
		return;
	*(void **)&realexecvp = dlsym(RTLD_NEXT, "execvp");
	*(void **)&realexecvpe = dlsym(RTLD_NEXT, "execvpe");
	*(void **)&realfexecve = dlsym(RTLD_NEXT, "fexecve");
	*(void **)&realdlclose = dlsym(RTLD_NEXT, "dlclose");
	*(void **)&realexecve = dlsym(RTLD_NEXT, "execve");
}

/* Before an exec: close the ring if this process owns it; whether it did. */
static int
execbegin(void)
{
	if (rt_state != RT_LIVE)
		return 0;
	rt_finish(EXIT_EXEC, 0);
	return rt_state == RT_DONE;
}

/* After an exec that failed: a new ring for the image that goes on. */
static int
execfailed(int closed, int r)
{
	int e;

	if (closed) {
		e = errno;
		rt_reopen(0);
		errno = e;
	}
	return r;
}

/* execve: the ring closed with REC_EXIT(EXIT_EXEC) first; reopened if it fails. */
EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	int c;

	if (realexecve == NULL)
		return (int)syscall(SYS_execve, path, argv, envp);
	c = execbegin();
	return execfailed(c, realexecve(path, argv, envp));
}

/* execv: execve with the current environment. */
EXPORT int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* execvp: as the C library's, the ring handled as in execve. */
EXPORT int
execvp(const char *file, char *const argv[])
{
	int c;

	exit_resolve();
	c = execbegin();
	return execfailed(c, realexecvp(file, argv));
}

/* execvpe: as the C library's, the ring handled as in execve. */
EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	int c;

	exit_resolve();
	c = execbegin();
	return execfailed(c, realexecvpe(file, argv, envp));
}

/* fexecve: as the C library's, the ring handled as in execve. */
EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	int c;

	exit_resolve();
	c = execbegin();
	return execfailed(c, realfexecve(fd, argv, envp));
}

/* Count the arguments of an execl call after arg, the NULL included. */
#define COUNTARGS(n, arg, last) do { \
	va_list ap_; \
	va_start(ap_, last); \
	for ((n) = 1; va_arg(ap_, char *) != NULL; (n)++) \
		; \
	va_end(ap_); \
	(n)++; \
} while (0)

/*
 * Fill argv[0..n) with arg and the n - 1 arguments (the NULL included)
 * that follow it in *ap, which is left just past them.
 */
static void
gatherargs(char **argv, size_t n, const char *arg, va_list *ap)
{
	size_t i;

	argv[0] = (char *)arg;
	for (i = 1; i < n; i++)
		argv[i] = va_arg(*ap, char *);
}

/* execl: execv with the arguments gathered on the stack. */
EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	COUNTARGS(n, arg, arg);
	{
		char *argv[n];

		va_start(ap, arg);
		gatherargs(argv, n, arg, &ap);
		va_end(ap);
		return execve(path, argv, environ);
	}
}

/* execlp: execvp with the arguments gathered on the stack. */
EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	COUNTARGS(n, arg, arg);
	{
		char *argv[n];

		va_start(ap, arg);
		gatherargs(argv, n, arg, &ap);
		va_end(ap);
		return execvp(file, argv);
	}
}

/* execle: execve with the arguments gathered on the stack; the environment follows the NULL. */
EXPORT int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	char **envp;

	COUNTARGS(n, arg, arg);
	{
		char *argv[n];

		va_start(ap, arg);
		gatherargs(argv, n, arg, &ap);
		envp = va_arg(ap, char **);
		va_end(ap);
		return execve(path, argv, envp);
	}
}

/* ---- dlclose ------------------------------------------------------------ */

static void
rescan(void)
{
	int nested;

	if (rt_state != RT_LIVE)
		return;
	rt_inside++;
	nested = rt_lock();
	if (rt_state == RT_LIVE)
		modules_scanl();
	rt_unlock(nested);
	rt_inside--;
}

/* dlclose: the C library's; REC_UNLOAD for every object it unmapped. */
EXPORT int
dlclose(void *handle)
{
	int r;

	exit_resolve();
	rescan();
	r = realdlclose(handle);
	cfi_flush();	/* the rules of its code are no longer true */
	rescan();
	return r;
}

/* ---- start -------------------------------------------------------------- */

/*
 * Register the exit hook and the fork handler, catch the fatal signals and
 * the snapshot signal; once, when tracing starts.
 */
void
exit_init(void)
{
	exit_resolve();
	on_exit(onexit, NULL);
	pthread_atfork(NULL, NULL, forkchild);
	catchsignals();
	snap_init();
}
