/*
 * wait_on_pid.c - wait until a process exits, using /dev/kmonitor.
 *
 *   wait_on_pid PID [DEVICE]
 *
 * DEVICE defaults to $KMONITOR_DEVICE, then /dev/kmonitor.  Exits 0 once
 * PID has exited (at once if PID is already a zombie), 1 on any error.
 *
 * This is the example from Documentation/kmonitor.txt made into a complete
 * program; it deliberately keeps the documentation's shape (handler that
 * exits, O_WRONLY open, one REGISTER, sigsuspend) because it stands for the
 * legacy tools that must keep running unchanged against kmonitord.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/kmonitor.h>

static void target_exit_handler(int signum, siginfo_t *info, void *buf)
{
	(void)signum;
	(void)info;
	(void)buf;
	/*
	 * We registered for one event on one process, so any notification
	 * means the target has exited.  _exit rather than exit: only
	 * async-signal-safe calls belong in a handler, and there is nothing
	 * buffered to flush.  The daemon drops our registration when the
	 * descriptor is closed, which exiting does for us.
	 */
	_exit(0);
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

int main(int argc, char *argv[])
{
	struct sigaction action;
	struct kmonitor_cmd hdr;
	sigset_t empty_mask;
	const char *device;
	pid_t pid;
	int fd;

	if (argc < 2 || argc > 3 || (pid = parse_pid(argv[1])) < 0) {
		fprintf(stderr, "usage: %s PID [DEVICE]\n", argv[0]);
		exit(1);
	}
	device = device_path(argc, argv);

	/*
	 * The notification is a real-time signal; install the handler
	 * before registering, since a zombie target is reported at once.
	 */
	sigemptyset(&action.sa_mask);
	action.sa_sigaction = target_exit_handler;
	action.sa_flags = SA_SIGINFO;
	if (-1 == sigaction(SIGRTMIN, &action, NULL)) {
		perror("sigaction");
		exit(1);
	}

	fd = open(device, O_WRONLY);
	if (-1 == fd) {
		perror(device);
		exit(1);
	}

	hdr.signal = SIGRTMIN;
	hdr.pid = pid;
	hdr.type = KMONITOR_PROCESS_EXIT;
	if (-1 == ioctl(fd, KMONITOR_IOW_REGISTER, &hdr)) {
		perror("ioctl KMONITOR_IOW_REGISTER");
		exit(1);
	}

	/* The handler exits; looping only guards against stray wakeups. */
	sigemptyset(&empty_mask);
	for (;;)
		sigsuspend(&empty_mask);
}
