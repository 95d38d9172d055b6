/*
 * kmblock - blocks on a file the way a monitor reading records will, and
 * says how the wait ended; the protocol tests drive it against a FUSE file
 * whose daemon keeps the request:
 *
 *   kmblock poll PATH  ->  "polling", then "revents N" | "err NAME"
 *                          poll(2) for POLLIN, with no timeout
 *   kmblock read PATH  ->  "reading", then "read N" | "err NAME"
 *                          read(2) of 64 bytes; SIGUSR1 has a handler
 *                          (without SA_RESTART), so a signal can end it
 *
 * The first line is printed just before the call; whether the call has
 * reached the daemon yet is for the test to see from the daemon's side.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <string.h>

#include "common.h"

static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char buf[64];
	int fd;

	if (argc != 3 || (strcmp(argv[1], "poll") != 0 && strcmp(argv[1], "read") != 0)) {
		fprintf(stderr, "usage: kmblock poll|read PATH\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open ");
		reply_err(errno);
		return 1;
	}

	if (strcmp(argv[1], "poll") == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		printf("polling\n");
		n = poll(&p, 1, -1);
		if (n < 0)
			reply_err(errno);
		else
			printf("revents %d\n", p.revents);
	} else {
		ssize_t n;

		printf("reading\n");
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			reply_err(errno);
		else
			printf("read %zd\n", n);
	}
	close(fd);
	return 0;
}
