/*
 * kmchurn.c - monitors SIGKILLed while they hold a registration.
 *
 *   kmchurn DEVICE TARGET_PID CYCLES
 *
 * CYCLES times: fork a monitor child that opens DEVICE, REGISTERs
 * TARGET_PID for PROCESS_EXIT|PROCESS_FORK (SIGRTMIN+1, blocked in the
 * child), tells us over a pipe that it has, and pauses; we SIGKILL it and
 * reap it.  The kernel closes the file of the dead monitor, so the daemon
 * must drop the registration, the open file and what it held for them;
 * the test around this program checks the daemon's counters, descriptors
 * and memory afterwards.  No exec: the cycle is as short as it can be.
 *
 * The child reports one byte: 0 when it registered, else the errno of the
 * step that failed (open or ioctl).  A cycle passes when the byte is 0 and
 * the child died of our SIGKILL.
 *
 * Prints "cycles N, elapsed S s, R cycles/s" and "N passed, M failed";
 * exits 0 only when every cycle passed.
 */
#define _GNU_SOURCE
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#define MAX_REPORTS 20	/* failed cycles printed in full */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return *s && !*end && !errno && *out >= min && *out <= max;
}

static _Noreturn void monitor_main(const char *device, pid_t target, int sig,
				   int report)
{
	struct kmonitor_cmd cmd = { target,
		KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_FORK, sig };
	unsigned char status = 0;
	int fd = open(device, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		status = (unsigned char)(errno ? errno : EIO);
	else if (ioctl(fd, KMONITOR_IOW_REGISTER, &cmd) < 0)
		status = (unsigned char)(errno ? errno : EIO);
	if (write(report, &status, 1) != 1)
		_exit(1);
	/* The registration must still be held when SIGKILL comes. */
	for (;;)
		pause();
}

int main(int argc, char *argv[])
{
	int sig = SIGRTMIN + 1;
	long passed = 0, failed = 0;
	long target_l, cycles, done = 0;
	double start, elapsed;
	sigset_t set;

	if (argc != 4 || !parse_long(argv[2], 1, INT_MAX, &target_l) ||
	    !parse_long(argv[3], 0, LONG_MAX, &cycles)) {
		fprintf(stderr, "usage: kmchurn DEVICE TARGET_PID CYCLES\n");
		return 2;
	}
	/*
	 * Blocked here and inherited by every child, so a notification that
	 * reaches a monitor before its death (the target forking) queues
	 * instead of killing it early.
	 */
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigprocmask");
		return 1;
	}

	start = now_s();
	for (; done < cycles; done++) {
		unsigned char status;
		int p[2], wstatus;
		ssize_t r;
		pid_t pid, w;

		/*
		 * A pipe per cycle, whose write end only the child keeps: if
		 * it dies before answering, read() sees EOF instead of
		 * blocking forever.
		 */
		if (pipe2(p, O_CLOEXEC) < 0) {
			perror("pipe2");
			failed++;
			break;
		}
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			monitor_main(argv[1], (pid_t)target_l, sig, p[1]);
		}
		close(p[1]);
		if (pid < 0) {
			perror("fork");
			close(p[0]);
			failed++;
			break;
		}
		do
			r = read(p[0], &status, 1);
		while (r < 0 && errno == EINTR);
		close(p[0]);
		kill(pid, SIGKILL);
		do
			w = waitpid(pid, &wstatus, 0);
		while (w < 0 && errno == EINTR);

		if (r == 1 && status == 0 && w == pid &&
		    WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) {
			passed++;
			continue;
		}
		if (failed++ < MAX_REPORTS) {
			if (r != 1)
				printf("cycle %ld: monitor %d died before answering\n",
				       done, (int)pid);
			else if (status != 0)
				printf("cycle %ld: monitor %d: %s\n", done,
				       (int)pid, strerror(status));
			else
				printf("cycle %ld: monitor %d ended with status %#x, not by our SIGKILL\n",
				       done, (int)pid, wstatus);
		}
	}
	elapsed = now_s() - start;

	printf("cycles %ld, elapsed %.3f s, %.0f cycles/s\n", done, elapsed,
	       elapsed > 0 ? (double)done / elapsed : 0.0);
	printf("%ld passed, %ld failed\n", passed, failed);
	return failed ? 1 : 0;
}
