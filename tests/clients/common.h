/*
 * common.h - the small helpers every test client needs: errno names for
 * the line protocol, a monotonic clock in ms, a sigtimedwait that survives
 * EINTR, waitpid that does too, and closing inherited descriptors in a
 * forked child.  Header-only (static functions), so each client stays one
 * .c file; a client that does not use one of them gets no warning for it.
 */
#ifndef KMONITOR_TEST_CLIENTS_COMMON_H
#define KMONITOR_TEST_CLIENTS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KM_UNUSED __attribute__((unused))

/* The symbol of an errno the daemon or the kernel may give us; NULL for others. */
static KM_UNUSED const char *errno_name(int err)
{
	static const struct { int num; const char *name; } names[] = {
		{ EINVAL, "EINVAL" }, { ESRCH, "ESRCH" }, { EFAULT, "EFAULT" },
		{ EPERM, "EPERM" }, { ENOSPC, "ENOSPC" }, { ENOTTY, "ENOTTY" },
		{ EBADF, "EBADF" }, { ENODEV, "ENODEV" }, { ECHILD, "ECHILD" },
		{ ENOTCONN, "ENOTCONN" }, { EACCES, "EACCES" },
		{ ENOENT, "ENOENT" }, { EIO, "EIO" }, { EAGAIN, "EAGAIN" },
		{ ENOSYS, "ENOSYS" }, { EINTR, "EINTR" }, { ENXIO, "ENXIO" },
		{ EBUSY, "EBUSY" }, { ENOMEM, "ENOMEM" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].num == err)
			return names[i].name;
	return NULL;
}

/* The line protocol's failure answer: "err NAME", or "err NUMBER" for an errno without a name here. */
static KM_UNUSED void reply_err(int err)
{
	const char *name = errno_name(err);

	if (name)
		printf("err %s\n", name);
	else
		printf("err %d\n", err);
}

static KM_UNUSED long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * sigtimedwait on a set of blocked signals for up to ms (0: only what is
 * queued already); the signal, or -1 with errno EAGAIN on a timeout.
 */
static KM_UNUSED int wait_sig(const sigset_t *set, long long ms, siginfo_t *si)
{
	long long deadline = now_ms() + ms, left;
	struct timespec ts;
	int sig;

	do {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sig = sigtimedwait(set, si, &ts);
	} while (sig < 0 && errno == EINTR);	/* retry with what is left */
	return sig;
}

/*
 * Blocks every real-time signal for the calling thread (in main, before
 * any thread or child exists: all of them inherit the mask), so that
 * notifications queue until wait_sig collects them and none can kill us.
 * 0, or -1 with errno set.
 */
static KM_UNUSED int block_realtime_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(&set, s);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* waitpid for one child; 0, or the errno. status may be NULL. */
static KM_UNUSED int reap(pid_t pid, int *status)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (status && r >= 0)
		*status = st;
	return r < 0 ? errno : 0;
}

/*
 * In a forked child: closes every descriptor from 3 up but keep, so it
 * holds no other pipe's write end open (which would keep that pipe's
 * reader from ever seeing EOF).
 */
static KM_UNUSED void close_fds_except(int keep)
{
	if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) < 0)
		goto slow;
	if (close_range((unsigned)keep + 1, ~0U, 0) < 0)
		goto slow;
	return;
slow:
	for (long fd = 3, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
		if (fd != keep)
			close((int)fd);
}

/*
 * Forks a child that holds the read end of a new pipe, and nothing else
 * from 3 up, and blocks on it until the write end, returned in *release,
 * is closed (by us, or by our death); then it sends SIGCONT to resume if
 * that is not 0, and exits 0.  Returns its pid, or -1 with errno set.
 */
static KM_UNUSED pid_t fork_held_child(int *release, pid_t resume)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close_fds_except(p[0]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		if (resume > 0)
			kill(resume, SIGCONT);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		int err = errno;

		close(p[1]);
		errno = err;
		return -1;
	}
	*release = p[1];
	return pid;
}

#endif
