/*
 * kmfdexec: what systemd does when it starts a service with a non-empty fd store, for the
 * handover tests (which have no systemd on the host).  It copies descriptors out of the test
 * process with pidfd_getfd(2) (a .NET process cannot pass chosen descriptors to a child), puts
 * them at 3, 4, ... in order, sets LISTEN_FDS, LISTEN_PID (its own pid, which exec keeps) and
 * LISTEN_FDNAMES, and execs the command.
 *
 *   kmfdexec PID NAME=FD... -- COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: kmfdexec PID NAME=FD... -- COMMAND [ARGS...]\n");
		return 2;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		return 1;
	}
	int i = 2, count = 0;
	int copied[64];
	char names[4096] = "";
	for (; i < argc && strcmp(argv[i], "--") != 0 && count < 64; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			fprintf(stderr, "kmfdexec: %s is not NAME=FD\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		/* Above every target number, so a later dup2 cannot overwrite one not yet moved. */
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(eq + 1), 0);
		if (fd < 0) {
			perror("pidfd_getfd");
			return 1;
		}
		copied[count] = fcntl(fd, F_DUPFD, 100);
		close(fd);
		if (count > 0)
			strncat(names, ":", sizeof(names) - strlen(names) - 1);
		strncat(names, argv[i], sizeof(names) - strlen(names) - 1);
		count++;
	}
	if (i >= argc - 1) {
		fprintf(stderr, "kmfdexec: no command after --\n");
		return 2;
	}
	close(pidfd);
	for (int k = 0; k < count; k++) {
		if (dup2(copied[k], 3 + k) < 0) {
			perror("dup2");
			return 1;
		}
		close(copied[k]); /* dup2 leaves the new number without close-on-exec */
	}
	char value[32];
	snprintf(value, sizeof(value), "%d", count);
	setenv("LISTEN_FDS", value, 1);
	snprintf(value, sizeof(value), "%d", (int)getpid());
	setenv("LISTEN_PID", value, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	execvp(argv[i + 1], argv + i + 1);
	perror("exec");
	return 127;
}
