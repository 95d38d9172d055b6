/*
 * kb_subscribe.c - holds NAME and REGEX subscriptions that match nothing, so the daemon carries them.
 *
 *   kb_subscribe DEVICE NAMES REGEXES
 *
 * Opens DEVICE and SUBSCRIBEs NAMES times to KMONITOR_SCOPE_NAME
 * ("kb-nomatch-0", "kb-nomatch-1", ...) and REGEXES times to
 * KMONITOR_SCOPE_REGEX ("^kb-rx-0-[0-9]+$", "^kb-rx-1-[0-9]+$", ...), each
 * for PROCESS_FORK, PROCESS_EXEC and PROCESS_EXIT as records on the file.
 * No process on the machine has such a name, so nothing is ever queued: what
 * the daemon pays is the subscriptions' presence (every process tracked, the
 * name read and matched at each exec), not their deliveries.
 *
 * Prints subscriptions=N and subscribe_ms=T once all are in, then holds them
 * until its standard input reaches end of file (or it gets SIGTERM), and
 * exits, which closes the file and drops them.
 */
#include "common.h"

static int subscribe(int fd, uint32_t scope, const char *pattern)
{
	struct kmonitor_subscription sub = {
		.scope = scope,
		.type = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT,
		.signal = 0,
	};
	snprintf(sub.pattern, sizeof sub.pattern, "%s", pattern);
	if (ioctl(fd, KMONITOR_IOWR_SUBSCRIBE, &sub) != 0)
		KB_DIE("SUBSCRIBE %s '%s': %s", scope == KMONITOR_SCOPE_NAME ? "NAME" : "REGEX", pattern, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		KB_DIE("usage: kb_subscribe DEVICE NAMES REGEXES");
	const char *device = argv[1];
	int names = atoi(argv[2]), regexes = atoi(argv[3]);
	if (names < 0 || regexes < 0)
		KB_DIE("kb_subscribe: bad arguments");
	signal(SIGTERM, SIG_DFL);

	int fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		KB_DIE("open %s: %s", device, strerror(errno));
	uint64_t t0 = kb_now_ns();
	int made = 0;
	char pattern[64];
	for (int i = 0; i < names; i++) {
		snprintf(pattern, sizeof pattern, "kb-nomatch-%d", i); /* at most 15 bytes, as comm */
		made += subscribe(fd, KMONITOR_SCOPE_NAME, pattern);
	}
	for (int i = 0; i < regexes; i++) {
		snprintf(pattern, sizeof pattern, "^kb-rx-%d-[0-9]+$", i);
		made += subscribe(fd, KMONITOR_SCOPE_REGEX, pattern);
	}
	printf("subscriptions=%d\nsubscribe_ms=%.1f\n", made, (double)(kb_now_ns() - t0) / 1e6);
	fflush(stdout);

	char buf[64];
	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	close(fd);
	return 0;
}
