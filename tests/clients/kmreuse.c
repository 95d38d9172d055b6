/*
 * kmreuse.c - a recycled pid never gets someone else's notifications.
 *
 *   kmreuse DEVICE ROUNDS
 *
 * Each round:
 *   1. fork target A (blocked on a pipe) and REGISTER it for
 *      PROCESS_EXIT|PROCESS_EXEC|PROCESS_FORK (SIGRTMIN+2);
 *   2. release and reap A, and expect A's PROCESS_EXIT;
 *   3. fork and reap short-lived children until one, B, is given A's pid
 *      (at most 4 * pid_max tries); when it never comes back because some
 *      other long-lived task (a thread of the daemon, say) took it
 *      meanwhile, the round proves nothing either way: it is said, and done
 *      over with a new A (at most ROUNDS times in all);
 *   4. B execs /bin/true, so the kernel reports an EXEC and an EXIT under
 *      A's old pid; we reap B;
 *   5. REGISTER a fresh marker child C for PROCESS_EXIT, release and reap
 *      it: the next SIGRTMIN+2 must be C's EXIT.  A notification for B
 *      (sent to A's old registration) would have been queued before it.
 *
 * Two barriers make the round mean something: before B execs, and again
 * after it is reaped, we register ourselves for PROCESS_FORK (SIGRTMIN+3),
 * fork a child and wait for that fork's notification, then deregister.
 * The daemon reads the kernel's events in order, so the first barrier
 * proves it has caught up with the search's forks (B's events will not be
 * lost in a netlink overflow, which would make the round pass for
 * nothing), and the second that it has handled B's events before C's.
 *
 * Meant for a VM with /proc/sys/kernel/pid_max lowered (e.g. to 500), so
 * pids recycle within a few hundred forks; with the default pid_max it
 * works too, more slowly.  Prints each failure and "N passed, M failed",
 * one per round; exits 0 only when every round passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#include "common.h"

#define WAIT_MS		20000	/* per notification: a loaded machine is slow */
#define BARRIER_TRIES	3	/* a barrier fork lost in an overflow is retried */
#define TRUE_PATH	"/bin/true"
#define RESERVED_PIDS	300	/* the kernel's: pids below it are not reused after a wrap */

struct ctx {
	int fd;
	int sig_exit, sig_fork;
	long pid_max;
	int round;
};

/* wait_sig for one signal. */
static int wait_one_sig(int sig, long long ms, siginfo_t *si)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return wait_sig(&set, ms, si);
}

static int kreq(int fd, unsigned long req, pid_t pid, int type, int sig)
{
	struct kmonitor_cmd cmd = { .pid = pid, .type = type, .signal = sig };

	return ioctl(fd, req, &cmd) < 0 ? errno : 0;
}

static const char *event_name(int ev)
{
	switch (ev) {
	case KMONITOR_THREAD_CREATE:	return "THREAD_CREATE";
	case KMONITOR_THREAD_ABORT:	return "THREAD_ABORT";
	case KMONITOR_THREAD_EXIT:	return "THREAD_EXIT";
	case KMONITOR_PROCESS_FORK:	return "PROCESS_FORK";
	case KMONITOR_PROCESS_ABORT:	return "PROCESS_ABORT";
	case KMONITOR_PROCESS_EXEC:	return "PROCESS_EXEC";
	case KMONITOR_PROCESS_EXIT:	return "PROCESS_EXIT";
	default:			return "unknown event";
	}
}

static bool fail(const struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool fail(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	printf("round %d: FAIL ", c->round);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return false;
}

/*
 * A target blocked on a pipe whose only write end is *release: closing
 * it is what makes the target exit, at a moment we choose.
 */
static pid_t fork_blocked(int *release)
{
	return fork_held_child(release, 0);
}

/* Expect the next sig_exit notification to be pid's PROCESS_EXIT. */
static bool expect_exit(const struct ctx *c, pid_t pid, const char *who)
{
	bool ok = true;
	siginfo_t si;

	for (;;) {
		if (wait_one_sig(c->sig_exit, WAIT_MS, &si) < 0)
			return fail(c, "no PROCESS_EXIT for %s %d within %d ms",
				    who, (int)pid, WAIT_MS);
		if (si.si_pid == pid && si.si_int == KMONITOR_PROCESS_EXIT &&
		    si.si_code == SI_QUEUE)
			return ok;
		/* Report it, and read on to the awaited one. */
		ok = fail(c, "before the PROCESS_EXIT of %s %d: %s (%#x) for pid %d, code %d",
			  who, (int)pid, event_name(si.si_int), si.si_int,
			  (int)si.si_pid, si.si_code);
	}
}

/*
 * Once the notification of a fork made now is here, the daemon has read
 * every kernel event before it.  A barrier fork lost in an overflow is
 * retried.
 */
static bool barrier(const struct ctx *c, const char *when)
{
	bool ok = false;
	int err;

	err = kreq(c->fd, KMONITOR_IOW_REGISTER, getpid(),
		   KMONITOR_PROCESS_FORK, c->sig_fork);
	if (err)
		return fail(c, "REGISTER of ourselves for PROCESS_FORK: %s",
			    strerror(err));
	for (int try = 0; try < BARRIER_TRIES && !ok; try++) {
		long long deadline;
		siginfo_t si;
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0)
			break;
		reap(pid, NULL);
		deadline = now_ms() + WAIT_MS;
		while (!ok && now_ms() < deadline) {
			if (wait_one_sig(c->sig_fork, deadline - now_ms(), &si) < 0)
				break;
			ok = si.si_pid == pid && si.si_int == KMONITOR_PROCESS_FORK;
		}
	}
	err = kreq(c->fd, KMONITOR_IOW_DEREGISTER, getpid(),
		   KMONITOR_PROCESS_FORK, c->sig_fork);
	if (err)
		return fail(c, "DEREGISTER of ourselves: %s", strerror(err));
	if (!ok)
		return fail(c, "%s: no notification for our barrier fork (%d tries of %d ms)",
			    when, BARRIER_TRIES, WAIT_MS);
	return true;
}

enum round_result { ROUND_FAILED, ROUND_PASSED, ROUND_AGAIN };

/*
 * Fork and reap children until one is given pid want.  That one (B)
 * waits on go_r until we close the write end, then execs /bin/true.
 * Returns B's pid; -2 when another task holds want (the round must be done
 * over), or -1 after 4 * pid_max tries.
 */
static pid_t find_pid(const struct ctx *c, pid_t want, int go_r, int go_w,
		      long *tries)
{
	for (*tries = 0; *tries < 4 * c->pid_max; ++*tries) {
		pid_t pid = fork();
		char ch;

		if (pid == 0) {
			if (getpid() != want)
				_exit(0);
			close(go_w);
			while (read(go_r, &ch, 1) < 0 && errno == EINTR)
				;
			execl(TRUE_PATH, "true", (char *)NULL);
			_exit(127);
		}
		if (pid < 0) {
			fail(c, "fork while looking for pid %d: %s", (int)want,
			     strerror(errno));
			return -1;
		}
		if (pid == want)
			return pid;
		reap(pid, NULL);
	}
	char path[32];

	snprintf(path, sizeof path, "/proc/%d", (int)want);
	if (access(path, F_OK) == 0) {
		printf("round %d: again: pid %d is held by another task after %ld forks\n",
		       c->round, (int)want, *tries);
		return -2;
	}
	fail(c, "pid %d did not come back within %ld forks", (int)want, *tries);
	return -1;
}

static enum round_result one_round(struct ctx *c)
{
	int release, go[2], err, status;
	pid_t a, b, m;
	long tries;
	bool ok;

	/* 1-2: A is registered, exits, and is reported once. */
	a = fork_blocked(&release);
	if (a < 0)
		return fail(c, "fork A: %s", strerror(errno));
	err = kreq(c->fd, KMONITOR_IOW_REGISTER, a,
		   KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXEC |
		   KMONITOR_PROCESS_FORK, c->sig_exit);
	close(release);
	reap(a, NULL);
	if (err)
		return fail(c, "REGISTER of A %d: %s", (int)a, strerror(err));
	if (!expect_exit(c, a, "A"))
		return false;

	/* 3: B gets A's pid and waits for us at go[0]. */
	if (pipe2(go, O_CLOEXEC) < 0)
		return fail(c, "pipe2: %s", strerror(errno));
	b = find_pid(c, a, go[0], go[1], &tries);
	close(go[0]);
	if (b < 0) {
		close(go[1]);
		return b == -2 ? ROUND_AGAIN : ROUND_FAILED;
	}
	ok = barrier(c, "before B's exec");

	/* 4: B execs and exits under A's old pid. */
	close(go[1]);
	err = reap(b, &status);
	if (err)
		return fail(c, "waitpid B %d: %s", (int)b, strerror(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ok = fail(c, "B %d did not run %s (status %#x)", (int)b,
			  TRUE_PATH, status);
	ok = barrier(c, "after B") && ok;

	/* 5: the marker's EXIT must be the next notification. */
	m = fork_blocked(&release);
	if (m < 0)
		return fail(c, "fork C: %s", strerror(errno));
	err = kreq(c->fd, KMONITOR_IOW_REGISTER, m, KMONITOR_PROCESS_EXIT,
		   c->sig_exit);
	close(release);
	reap(m, NULL);
	if (err)
		return fail(c, "REGISTER of C %d: %s", (int)m, strerror(err));
	ok = expect_exit(c, m, "marker C") && ok;
	if (ok)
		printf("round %d: ok (pid %d came back after %ld forks)\n",
		       c->round, (int)a, tries + 1);
	return ok ? ROUND_PASSED : ROUND_FAILED;
}

static long read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int main(int argc, char *argv[])
{
	struct ctx c = { 0 };
	int passed = 0, failed = 0, again = 0;
	long rounds;
	char *end;

	if (argc != 3 || (rounds = strtol(argv[2], &end, 0)) < 0 || *end ||
	    !*argv[2]) {
		fprintf(stderr, "usage: kmreuse DEVICE ROUNDS\n");
		return 2;
	}
	c.sig_exit = SIGRTMIN + 2;
	c.sig_fork = SIGRTMIN + 3;
	if (block_realtime_signals() < 0) {
		perror("sigprocmask");
		return 1;
	}
	c.pid_max = read_pid_max();
	if (c.pid_max <= 0) {
		fprintf(stderr, "cannot read /proc/sys/kernel/pid_max\n");
		return 1;
	}
	c.fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (c.fd < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/*
	 * After wrapping, the kernel hands out pids from RESERVED_PIDS (300) up:
	 * a pid below it never comes back, so the rounds start above it (a
	 * freshly booted VM is still below).
	 */
	for (long i = 0; i < c.pid_max; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		reap(pid, NULL);
		if (pid >= RESERVED_PIDS)
			break;
	}
	for (c.round = 1; c.round <= rounds; c.round++) {
		switch (one_round(&c)) {
		case ROUND_PASSED:
			passed++;
			break;
		case ROUND_FAILED:
			failed++;
			break;
		case ROUND_AGAIN:
			if (++again > rounds) {
				printf("round %d: FAIL %d rounds had to be done over: pids are not coming back\n",
				       c.round, again);
				failed++;
			} else {
				c.round--;
			}
			break;
		}
	}
	close(c.fd);
	printf("pid_max %ld\n", c.pid_max);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
