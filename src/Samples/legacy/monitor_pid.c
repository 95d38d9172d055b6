/*
 * monitor_pid.c - follow a process subtree with /dev/kmonitor.
 *
 *   monitor_pid PID [DEVICE]
 *
 * DEVICE defaults to $KMONITOR_DEVICE, then /dev/kmonitor.  Registers
 * PROCESS_FORK|PROCESS_EXIT on PID and on every child it is told about,
 * printing one line per event:
 *
 *   fork <pid> uid=<uid>              a watched process forked <pid>
 *   exit <pid>                        a watched process exited
 *   exit <pid> (before registration)  a child was gone (reaped) before we
 *                                     could register on it
 *
 * Exits 0 once every watched process has exited, 1 on errors.
 *
 * Limitation inherent in the ABI: a child that forks before we have
 * registered on it has its own children go unreported.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#define WATCH_EVENTS (KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXIT)

/* The set of processes registered on and not yet seen to exit. */
struct watchset {
	pid_t *pids;
	size_t len, cap;
};

static bool watch_add(struct watchset *w, pid_t pid)
{
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		pid_t *p = realloc(w->pids, cap * sizeof(*p));

		if (!p)
			return false;
		w->pids = p;
		w->cap = cap;
	}
	w->pids[w->len++] = pid;
	return true;
}

/* Returns whether pid was watched; order does not matter, so swap-remove. */
static bool watch_remove(struct watchset *w, pid_t pid)
{
	for (size_t i = 0; i < w->len; i++) {
		if (w->pids[i] == pid) {
			w->pids[i] = w->pids[--w->len];
			return true;
		}
	}
	return false;
}

static pid_t parse_pid(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	return (pid_t)v;
}

static const char *device_path(int argc, char *argv[])
{
	const char *env = getenv("KMONITOR_DEVICE");

	if (argc > 2)
		return argv[2];
	return (env && *env) ? env : "/dev/kmonitor";
}

static int register_pid(int fd, pid_t pid, int sig)
{
	struct kmonitor_cmd cmd = { .pid = pid, .type = WATCH_EVENTS,
				    .signal = sig };

	return ioctl(fd, KMONITOR_IOW_REGISTER, &cmd);
}

/*
 * A watched process forked: follow the child too.  ESRCH means the child
 * already exited and was reaped (a zombie would still be accepted and its
 * exit reported at once), so it is reported as gone rather than an error.
 */
static int on_fork(struct watchset *w, int fd, int sig, const siginfo_t *si)
{
	printf("fork %d uid=%u\n", (int)si->si_pid, (unsigned)si->si_uid);
	if (register_pid(fd, si->si_pid, sig) == 0)
		return watch_add(w, si->si_pid) ? 0 : -1;
	if (errno == ESRCH) {
		printf("exit %d (before registration)\n", (int)si->si_pid);
		return 0;
	}
	fprintf(stderr, "register %d: %s\n", (int)si->si_pid, strerror(errno));
	return 0;	/* one lost child is not a reason to stop watching */
}

static void on_exit_event(struct watchset *w, const siginfo_t *si)
{
	printf("exit %d\n", (int)si->si_pid);
	watch_remove(w, si->si_pid);
}

/* Take notifications until the watch set is empty. */
static int event_loop(struct watchset *w, int fd, int sig)
{
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, sig);
	while (w->len > 0) {
		if (sigwaitinfo(&set, &si) < 0) {
			if (errno == EINTR)
				continue;
			perror("sigwaitinfo");
			return 1;
		}
		/* Ignore anything that is not a kmonitor notification. */
		if (si.si_code != SI_QUEUE)
			continue;
		if (si.si_int == KMONITOR_PROCESS_FORK) {
			if (on_fork(w, fd, sig, &si) < 0) {
				perror("malloc");
				return 1;
			}
		} else if (si.si_int == KMONITOR_PROCESS_EXIT) {
			on_exit_event(w, &si);
		}
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct watchset w = { 0 };
	const char *device;
	int sig = SIGRTMIN;
	sigset_t set;
	pid_t pid;
	int fd, rc;

	if (argc < 2 || argc > 3 || (pid = parse_pid(argv[1])) < 0) {
		fprintf(stderr, "usage: %s PID [DEVICE]\n", argv[0]);
		return 1;
	}
	device = device_path(argc, argv);
	/* Output is usually piped to a test or a log; keep it line-timely. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Block before registering so early notifications queue for us. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigprocmask");
		return 1;
	}
	fd = open(device, O_WRONLY);
	if (fd < 0) {
		perror(device);
		return 1;
	}
	if (register_pid(fd, pid, sig) < 0) {
		perror("ioctl KMONITOR_IOW_REGISTER");
		return 1;
	}
	if (!watch_add(&w, pid)) {
		perror("malloc");
		return 1;
	}
	rc = event_loop(&w, fd, sig);
	close(fd);
	free(w.pids);
	return rc;
}
