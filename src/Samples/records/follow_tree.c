/*
 * follow_tree.c - run a command and print every fork, exec and exit in its
 * process subtree, with exit statuses.
 *
 *   follow_tree COMMAND [ARG...]
 *
 * Output, one line each, flushed at once:
 *
 *   fork PARENT CHILD          PARENT forked CHILD
 *   exec PID NAME              PID exec'd a program now called NAME
 *   exit PID NAME exit N       PID exited with status N
 *   exit PID NAME signal N     PID was killed by signal N
 *   lost N                     N records were dropped (we read too slowly)
 *
 * It exits once COMMAND's own process has exited, with COMMAND's exit
 * status (128 + N when signal N killed it); 1 with a message if it cannot
 * start, 127 if COMMAND cannot be run.  The device is $KMONITOR_DEVICE, or
 * /dev/kmonitor.
 *
 * No race: the child is created first and waits on a pipe; only once the
 * TREE subscription on it is in place is it let go to exec COMMAND.  From
 * then on the daemon adds every descendant at its parent's fork, before it
 * can run, so grandchildren that fork, exec and exit at once are all seen
 * (the 2004 monitor_pid, which registers each child after its FORK signal,
 * misses them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kmonitor.h>

static void print_status(int status)
{
	if (WIFEXITED(status))
		printf(" exit %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf(" signal %d\n", WTERMSIG(status));
	else
		printf(" status %d\n", status);
}

/* Forks the child that will run argv once a byte (or EOF) arrives on a pipe. */
static pid_t start_held(char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		/* EOF without the byte: our parent gave up; do not run anything. */
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "follow_tree: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -1;
	}
	*go = p[1];
	return pid;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int main(int argc, char *argv[])
{
	struct kmonitor_event events[64];
	struct kmonitor_subscription sub;
	const char *device = getenv("KMONITOR_DEVICE");
	int fd, go, status;
	pid_t root;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr,
			"usage: %s COMMAND [ARG...]\n"
			"Runs COMMAND; prints fork/exec/exit lines for its whole subtree;\n"
			"exits with its status.  The device is $KMONITOR_DEVICE, or /dev/kmonitor.\n",
			argv[0]);
		return 2;
	}
	if (!device || !*device)
		device = "/dev/kmonitor";
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = open(device, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "follow_tree: %s: %s\n", device, strerror(errno));
		return 1;
	}
	root = start_held(argv + 1, &go);
	if (root < 0) {
		perror("follow_tree: fork");
		return 1;
	}

	memset(&sub, 0, sizeof(sub));
	sub.scope = KMONITOR_SCOPE_TREE;
	sub.type = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT;
	sub.pid = root;
	sub.signal = 0;		/* records on this file, not signals */
	if (ioctl(fd, KMONITOR_IOWR_SUBSCRIBE, &sub) < 0) {
		fprintf(stderr, "follow_tree: SUBSCRIBE on %s: %s\n", device, strerror(errno));
		close(go);	/* the child sees EOF and exits without running COMMAND */
		waitpid(root, NULL, 0);
		return 1;
	}
	if (write(go, "x", 1) != 1) {
		perror("follow_tree: releasing the child");
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
		return 1;
	}
	close(go);

	for (;;) {
		ssize_t n = read(fd, events, sizeof(events));

		if (n < 0 && errno == EINTR)
			continue;	/* the device answers EINTR even under SA_RESTART */
		if (n <= 0) {
			fprintf(stderr, "follow_tree: read %s: %s\n", device,
				n < 0 ? strerror(errno) : "end of file");
			return 1;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(events[0]); i++) {
			const struct kmonitor_event *e = &events[i];

			switch (e->type) {
			case KMONITOR_PROCESS_FORK:
				printf("fork %d %d\n", (int)e->ppid, (int)e->pid);
				break;
			case KMONITOR_PROCESS_EXEC:
				printf("exec %d %.16s\n", (int)e->pid, e->comm);
				break;
			case KMONITOR_PROCESS_EXIT:
				printf("exit %d %.16s", (int)e->pid, e->comm);
				print_status(e->status);
				break;
			case KMONITOR_EVENT_LOST:
				printf("lost %d\n", (int)e->status);
				break;
			}
			if (e->type == KMONITOR_PROCESS_EXIT && e->pid == root) {
				/* Our own child: reap it; its wait status is the record's. */
				status = e->status;
				while (waitpid(root, &status, 0) < 0 && errno == EINTR)
					;
				return exit_code(status);
			}
		}
	}
}
