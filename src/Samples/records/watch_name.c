/*
 * watch_name.c - print a line when a process of a given name starts or
 * stops, starting with the ones already running (what collectd's procevent
 * plugin does with its own netlink listener and /proc scan).
 *
 *   watch_name NAME            processes whose name (comm) is NAME
 *   watch_name -r REGEX        names matching a POSIX extended regular expression
 *   watch_name -f REGEX        command lines (argv joined by blanks) matching it
 *
 * Output, one line each, flushed at once, until killed:
 *
 *   running PID NAME           already running when we started
 *   started PID NAME           exec'd into a matching program
 *   stopped PID NAME exit N    exited with status N
 *   stopped PID NAME signal N  killed by signal N
 *   lost N                     N records were dropped (we read too slowly)
 *
 * A process is reported stopped only if it was reported running or started:
 * a fork of a matching process that exits without exec'ing is not a program
 * that started.  The device is $KMONITOR_DEVICE, or /dev/kmonitor.  Exits 1
 * with a message on any error, 2 on a bad command line.
 *
 * One SUBSCRIBE with signal 0 does all the work: the daemon scans /proc for
 * the running matches (EXISTING records), follows exec and name changes, and
 * keeps each name until the exit, so the stop line names a process whose
 * /proc entry is already gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kmonitor.h>

/* The pids reported running or started and not yet stopped. */
static pid_t *alive;
static size_t nalive, cap_alive;

static bool is_alive(pid_t pid)
{
	for (size_t i = 0; i < nalive; i++)
		if (alive[i] == pid)
			return true;
	return false;
}

static void add_alive(pid_t pid)
{
	if (nalive == cap_alive) {
		size_t cap = cap_alive ? cap_alive * 2 : 64;
		pid_t *p = realloc(alive, cap * sizeof(*p));

		if (!p) {
			perror("watch_name");
			exit(1);
		}
		alive = p;
		cap_alive = cap;
	}
	alive[nalive++] = pid;
}

/* Removes pid; false if it was not there. */
static bool remove_alive(pid_t pid)
{
	for (size_t i = 0; i < nalive; i++) {
		if (alive[i] == pid) {
			alive[i] = alive[--nalive];
			return true;
		}
	}
	return false;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s NAME | -r REGEX | -f REGEX\n"
		"  NAME      a process name as in /proc/PID/comm (1 to 15 bytes)\n"
		"  -r REGEX  names matching a POSIX extended regular expression\n"
		"  -f REGEX  command lines matching it (like pgrep -f)\n"
		"Prints running/started/stopped PID NAME lines until killed.\n"
		"The device is $KMONITOR_DEVICE, or /dev/kmonitor.\n", prog);
	exit(2);
}

static void subscribe(int fd, const char *device, __u32 scope, __u32 flags,
		      const char *pattern)
{
	struct kmonitor_subscription sub;

	memset(&sub, 0, sizeof(sub));
	sub.scope = scope;
	sub.type = KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXEC |
		   KMONITOR_PROCESS_EXIT;
	sub.signal = 0;		/* records on this file, not signals */
	sub.flags = flags;
	if (strlen(pattern) >= sizeof(sub.pattern)) {
		fprintf(stderr, "watch_name: the pattern is longer than %zu bytes\n",
			sizeof(sub.pattern) - 1);
		exit(2);
	}
	strcpy(sub.pattern, pattern);
	if (ioctl(fd, KMONITOR_IOWR_SUBSCRIBE, &sub) == 0)
		return;
	switch (errno) {
	case EINVAL:
		fprintf(stderr, "watch_name: %s refused \"%s\" (EINVAL): %s\n", device,
			pattern, scope == KMONITOR_SCOPE_NAME ?
			"a name is 1 to 15 bytes" :
			"not a POSIX extended regular expression");
		break;
	case ENOSPC:
		fprintf(stderr, "watch_name: %s: too many subscriptions (ENOSPC)\n", device);
		break;
	default:
		fprintf(stderr, "watch_name: SUBSCRIBE on %s: %s\n", device, strerror(errno));
	}
	exit(1);
}

static void print_status(int status)
{
	if (WIFEXITED(status))
		printf(" exit %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf(" signal %d\n", WTERMSIG(status));
	else
		printf(" status %d\n", status);
}

static void handle(const struct kmonitor_event *e)
{
	switch (e->type) {
	case KMONITOR_PROCESS_EXISTING:
		if (!is_alive(e->pid)) {
			add_alive(e->pid);
			printf("running %d %.16s\n", (int)e->pid, e->comm);
		}
		break;
	case KMONITOR_PROCESS_EXEC:
		/* A matching process that execs a matching program again is not new. */
		if (!is_alive(e->pid)) {
			add_alive(e->pid);
			printf("started %d %.16s\n", (int)e->pid, e->comm);
		}
		break;
	case KMONITOR_PROCESS_EXIT:
		if (remove_alive(e->pid)) {
			printf("stopped %d %.16s", (int)e->pid, e->comm);
			print_status(e->status);
		}
		break;
	case KMONITOR_EVENT_LOST:
		printf("lost %d\n", (int)e->status);
		break;
	}
}

int main(int argc, char *argv[])
{
	struct kmonitor_event events[64];
	const char *device = getenv("KMONITOR_DEVICE");
	__u32 scope = KMONITOR_SCOPE_NAME, flags = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "rf")) != -1) {
		if (opt == 'r') {
			scope = KMONITOR_SCOPE_REGEX;
		} else if (opt == 'f') {
			scope = KMONITOR_SCOPE_REGEX;
			flags = KMONITOR_MATCH_CMDLINE;
		} else {
			usage(argv[0]);
		}
	}
	if (optind != argc - 1 || !*argv[optind])
		usage(argv[0]);
	if (!device || !*device)
		device = "/dev/kmonitor";
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a line as soon as it happens, even into a pipe */

	fd = open(device, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "watch_name: %s: %s\n", device, strerror(errno));
		return 1;
	}
	subscribe(fd, device, scope, flags, argv[optind]);

	for (;;) {
		ssize_t n = read(fd, events, sizeof(events));

		if (n < 0 && errno == EINTR)
			continue;	/* the device answers EINTR even under SA_RESTART */
		if (n < 0) {
			fprintf(stderr, "watch_name: read %s: %s\n", device, strerror(errno));
			return 1;
		}
		if (n == 0) {
			fprintf(stderr, "watch_name: %s: end of file\n", device);
			return 1;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(events[0]); i++)
			handle(&events[i]);
	}
}
