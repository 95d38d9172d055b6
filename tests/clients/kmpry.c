/*
 * kmpry.c - tries what a container's root would try against another
 * process of its pid namespace, and says what the kernel answered:
 *
 *   kmpry PID  ->  root ok | root err NAME      open("/proc/PID/root")
 *                  ptrace ok | ptrace err NAME  PTRACE_ATTACH, then detach
 *
 * The tests run it as root without CAP_SYS_PTRACE inside a monitor's pid
 * namespace, against the daemon's signal relay there, which must refuse
 * both: a way into the relay is a way into the host it was started from.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ptrace.h>

#include "common.h"

int main(int argc, char **argv)
{
	char path[64];
	pid_t pid;
	int fd;

	if (argc != 2 || (pid = (pid_t)strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: kmpry PID\n");
		return 2;
	}

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		printf("root ok\n");
		close(fd);
	} else {
		printf("root ");
		reply_err(errno);
	}

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == 0) {
		printf("ptrace ok\n");
		/* Let it go again: it is stopped once the attach is complete. */
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	} else {
		printf("ptrace ");
		reply_err(errno);
	}
	return 0;
}
