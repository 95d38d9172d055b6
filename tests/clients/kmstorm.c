/*
 * kmstorm.c - no PROCESS_EXIT is lost when the netlink socket overflows.
 *
 *   kmstorm DEVICE DAEMON_PID N_TARGETS N_STORM
 *
 * Registers N_TARGETS children of ours for PROCESS_EXIT (SIGRTMIN+2) and
 * ourselves for PROCESS_FORK (SIGRTMIN+3), then stops the daemon with
 * SIGSTOP so its netlink listener reads nothing, forks N_STORM children
 * that exit at once (from two threads, to use both cores), ends and reaps
 * every target, and lets the daemon go on with SIGCONT.  The kernel's
 * events overflow the daemon's receive buffer (run it with a small
 * --receive-buffer), so the targets' exits can only reach us through the
 * daemon's pidfd watcher: every one must still arrive, exactly once.
 * Fork notifications may be lost in the overflow; they are only counted.
 *
 * Prints "targets N, exits reported N, duplicates N, fork notifications
 * received N of N_STORM", then "N passed, M failed" (one check per target,
 * plus one failure per other problem); exits 0 only when nothing failed.
 *
 * Every wait is on a real event: sigtimedwait with a generous timeout,
 * waitpid, a pipe.  A guardian child sends the daemon SIGCONT as soon as
 * our end of a pipe closes, so the daemon is resumed even if we die
 * (SIGKILL included) while it is stopped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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
#define STOP_MS		5000	/* how long the daemon may take to stop */
#define MARKER_TRIES	3
#define MAX_REPORTS	20	/* unexpected notifications printed in full */
#define STORM_THREADS	2

struct storm {
	pthread_t th;
	long want, done;
	int err;		/* errno of a failed fork or waitpid, or 0 */
};

struct state {
	pid_t *targets;		/* sorted, for bsearch */
	int *seen;		/* PROCESS_EXIT notifications per target */
	long n_targets;
	long exits, dups, forks, unexpected;
	pid_t marker;		/* the fork whose notification we wait for */
	bool marker_seen;
};

static bool parse_long(const char *s, long min, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return *s && !*end && !errno && *out >= min;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/*
 * Storm children only _exit: vfork lends them our memory instead of
 * copying page tables, so each fork costs little and the storm is dense.
 */
static void *storm_main(void *arg)
{
	struct storm *s = arg;

	for (s->done = 0; s->done < s->want; s->done++) {
		pid_t pid = vfork();

		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			s->err = errno;
			break;
		}
		s->err = reap(pid, NULL);
		if (s->err)
			break;
	}
	return NULL;
}

/*
 * The guardian holds the read end of a pipe whose only write end is ours;
 * read() returns when we close it or die, and the daemon is resumed then.
 * It keeps no other descriptor (the targets' pipe above all).
 */
static pid_t start_guardian(pid_t daemon_pid, int *guard_w)
{
	return fork_held_child(guard_w, daemon_pid);
}

/* 'T' (stopped) in /proc/PID/stat: the listener can no longer read. */
static bool process_stopped(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'T';
}

/*
 * SIGSTOP takes effect when the daemon's threads next leave the kernel,
 * which is at once; we still watch for the state so the storm does not
 * start while the listener is reading.  Bounded, and yielding the CPU.
 */
static bool wait_stopped(pid_t pid)
{
	long long deadline = now_ms() + STOP_MS;

	while (!process_stopped(pid)) {
		if (now_ms() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

static void report_unexpected(struct state *st, const siginfo_t *si)
{
	if (st->unexpected++ < MAX_REPORTS)
		printf("unexpected notification: signal %d code %d pid %d int %#x\n",
		       si->si_signo, si->si_code, (int)si->si_pid,
		       si->si_value.sival_int);
}

static void handle(struct state *st, const siginfo_t *si, int sig_exit,
		   int sig_fork)
{
	if (si->si_code != SI_QUEUE) {
		report_unexpected(st, si);
		return;
	}
	if (si->si_signo == sig_exit && si->si_int == KMONITOR_PROCESS_EXIT) {
		pid_t *t = bsearch(&si->si_pid, st->targets, (size_t)st->n_targets,
				   sizeof(pid_t), cmp_pid);

		if (!t) {
			report_unexpected(st, si);
		} else if (st->seen[t - st->targets]++ == 0) {
			st->exits++;
		} else {
			st->dups++;
			printf("duplicate PROCESS_EXIT for target %d\n",
			       (int)si->si_pid);
		}
	} else if (si->si_signo == sig_fork &&
		   si->si_int == KMONITOR_PROCESS_FORK) {
		if (st->marker && si->si_pid == st->marker)
			st->marker_seen = true;
		else
			st->forks++;
	} else {
		report_unexpected(st, si);
	}
}

int main(int argc, char *argv[])
{
	int sig_exit = SIGRTMIN + 2, sig_fork = SIGRTMIN + 3;
	struct storm storm[STORM_THREADS] = { 0 };
	struct state st = { 0 };
	long n_targets, n_storm, daemon_l, stormed = 0;
	int release[2], guard_w = -1, fd, failed = 0, passed = 0;
	pid_t daemon_pid, guardian;
	bool stopped = false;
	sigset_t set;
	siginfo_t si;

	if (argc != 5 || !parse_long(argv[2], 1, &daemon_l) ||
	    daemon_l > INT_MAX || !parse_long(argv[3], 1, &n_targets) ||
	    n_targets > 1000000 || !parse_long(argv[4], 0, &n_storm)) {
		fprintf(stderr, "usage: kmstorm DEVICE DAEMON_PID N_TARGETS N_STORM\n");
		return 2;
	}
	daemon_pid = (pid_t)daemon_l;

	if (block_realtime_signals() < 0) {
		perror("sigprocmask");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, sig_exit);
	sigaddset(&set, sig_fork);

	st.n_targets = n_targets;
	st.targets = calloc((size_t)n_targets, sizeof(pid_t));
	st.seen = calloc((size_t)n_targets, sizeof(int));
	if (!st.targets || !st.seen) {
		perror("calloc");
		return 1;
	}

	/*
	 * One pipe holds every target: each keeps only the read end, so
	 * closing our write end ends them all at the same moment.
	 */
	if (pipe2(release, O_CLOEXEC) < 0) {
		perror("pipe2");
		return 1;
	}
	for (long i = 0; i < n_targets; i++) {
		pid_t pid = fork();
		char c;

		if (pid == 0) {
			close(release[1]);
			while (read(release[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (pid < 0) {
			perror("fork target");
			close(release[1]);	/* the ones made so far exit */
			return 1;
		}
		st.targets[i] = pid;
	}
	close(release[0]);

	/* Forked before we register, so it is no fork notification. */
	guardian = start_guardian(daemon_pid, &guard_w);
	if (guardian < 0) {
		perror("guardian");
		close(release[1]);
		return 1;
	}

	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		close(release[1]);
		close(guard_w);
		return 1;
	}
	for (long i = 0; i < n_targets; i++) {
		struct kmonitor_cmd cmd = { st.targets[i], KMONITOR_PROCESS_EXIT,
					    sig_exit };

		if (ioctl(fd, KMONITOR_IOW_REGISTER, &cmd) < 0) {
			printf("REGISTER of target %d: %s\n", (int)cmd.pid,
			       strerror(errno));
			failed++;
		}
	}
	{
		struct kmonitor_cmd cmd = { getpid(), KMONITOR_PROCESS_FORK,
					    sig_fork };

		if (ioctl(fd, KMONITOR_IOW_REGISTER, &cmd) < 0) {
			printf("REGISTER of ourselves: %s\n", strerror(errno));
			failed++;
		}
	}
	qsort(st.targets, (size_t)n_targets, sizeof(pid_t), cmp_pid);

	/* ---- the daemon is stopped from here to the SIGCONT below ---- */
	if (kill(daemon_pid, SIGSTOP) < 0) {
		printf("SIGSTOP to the daemon %d: %s\n", (int)daemon_pid,
		       strerror(errno));
		failed++;
	} else if (!(stopped = wait_stopped(daemon_pid))) {
		printf("the daemon %d did not stop within %d ms\n",
		       (int)daemon_pid, STOP_MS);
		failed++;
	}
	if (stopped) {
		int started = 0;

		for (int i = 0; i < STORM_THREADS; i++) {
			storm[i].want = n_storm / STORM_THREADS +
				(i < n_storm % STORM_THREADS ? 1 : 0);
			if (pthread_create(&storm[i].th, NULL, storm_main,
					   &storm[i]) != 0) {
				printf("pthread_create failed\n");
				failed++;
				break;
			}
			started++;
		}
		for (int i = 0; i < started; i++) {
			pthread_join(storm[i].th, NULL);
			stormed += storm[i].done;
			if (storm[i].err) {
				printf("storm thread %d stopped after %ld forks: %s\n",
				       i, storm[i].done, strerror(storm[i].err));
				failed++;
			}
		}
	}
	close(release[1]);
	for (long i = 0; i < n_targets; i++) {
		int err = reap(st.targets[i], NULL);

		if (err) {
			printf("waitpid %d: %s\n", (int)st.targets[i], strerror(err));
			failed++;
		}
	}
	if (kill(daemon_pid, SIGCONT) < 0 && errno != ESRCH) {
		printf("SIGCONT to the daemon: %s\n", strerror(errno));
		failed++;
	}
	close(guard_w);		/* the guardian sends SIGCONT too; harmless */
	reap(guardian, NULL);
	/* ---- the daemon runs again ---- */

	while (st.exits < n_targets) {
		if (wait_sig(&set, WAIT_MS, &si) < 0) {
			printf("no notification within %d ms; %ld target exits missing\n",
			       WAIT_MS, n_targets - st.exits);
			break;
		}
		handle(&st, &si, sig_exit, sig_fork);
	}

	/*
	 * A fork of ours after everything else: the daemon reads netlink
	 * in order, so once its notification is here every fork of the
	 * storm the daemon still knew of has been notified and counted.
	 */
	for (int try = 0; try < MARKER_TRIES && !st.marker_seen; try++) {
		long long deadline;
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0)
			break;
		st.marker = pid;
		reap(pid, NULL);
		deadline = now_ms() + WAIT_MS;
		while (!st.marker_seen && now_ms() < deadline) {
			if (wait_sig(&set, deadline - now_ms(), &si) < 0)
				break;
			handle(&st, &si, sig_exit, sig_fork);
		}
	}
	if (!st.marker_seen)
		printf("note: no marker fork notification; the fork count may be short\n");
	while (wait_sig(&set, 0, &si) > 0)	/* what is already queued */
		handle(&st, &si, sig_exit, sig_fork);
	close(fd);

	for (long i = 0; i < n_targets; i++) {
		if (st.seen[i] == 1) {
			passed++;
		} else {
			failed++;
			if (st.seen[i] == 0)
				printf("no PROCESS_EXIT for target %d\n",
				       (int)st.targets[i]);
		}
	}
	if (st.unexpected)
		failed++;
	if (stopped && stormed < n_storm)
		printf("only %ld of %ld storm forks were made\n", stormed, n_storm);

	printf("targets %ld, exits reported %ld, duplicates %ld, fork notifications received %ld of %ld\n",
	       n_targets, st.exits, st.dups, st.forks, n_storm);
	printf("%d passed, %d failed\n", passed, failed);
	free(st.targets);
	free(st.seen);
	return failed ? 1 : 0;
}
