/*
 * kb_roundtrip.c - ioctl round trips per second through the device.
 *
 *   kb_roundtrip DEVICE PROCS SECONDS MODE
 *
 * Forks one long-lived target (it sleeps in pause()) and PROCS monitor
 * processes.  Each monitor opens DEVICE (a file of its own) and, until
 * SECONDS have passed, calls ioctl in a loop:
 *
 *   MODE register  REGISTER (target, PROCESS_EXIT, SIGRTMIN+1), then
 *                  DEREGISTER of the same: two round trips per pair, each
 *                  one doing the daemon's whole REGISTER/DEREGISTER work
 *                  (/proc reads, pidfd, table);
 *   MODE floor     an ioctl number the device does not know
 *                  (_IOW(0xDE, 9, struct kmonitor_cmd), same 12-byte
 *                  argument): the daemon answers EINVAL at once, so this is
 *                  the transport's own cost (kernel FUSE + the daemon's
 *                  request loop), the floor REGISTER is compared with.
 *
 * Prints ops=N seconds=S ops_per_s=R errors=E (errors: any unexpected result).
 */
#include "common.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define KB_IOW_UNKNOWN _IOW(0xDE, 9, struct kmonitor_cmd)

struct result {
	uint64_t ops;
	uint64_t errors;
};

int main(int argc, char **argv)
{
	if (argc != 5)
		KB_DIE("usage: kb_roundtrip DEVICE PROCS SECONDS register|floor");
	const char *device = argv[1];
	int procs = atoi(argv[2]);
	double seconds = atof(argv[3]);
	int floor_mode = strcmp(argv[4], "floor") == 0;
	if (procs < 1 || seconds <= 0 || (!floor_mode && strcmp(argv[4], "register") != 0))
		KB_DIE("kb_roundtrip: bad arguments");

	int sig = SIGRTMIN + 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);

	pid_t target = fork();
	if (target == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}

	struct result *results = mmap(NULL, sizeof(struct result) * (size_t)procs, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int start[2], ready[2];
	if (pipe(start) != 0 || pipe(ready) != 0)
		KB_DIE("pipe: %s", strerror(errno));
	pid_t *workers = calloc((size_t)procs, sizeof(pid_t));
	for (int w = 0; w < procs; w++) {
		workers[w] = fork();
		if (workers[w] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(start[1]);
			close(ready[0]);
			int fd = open(device, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				KB_DIE("open %s: %s", device, strerror(errno));
			char c = 'r';
			if (write(ready[1], &c, 1) != 1 || read(start[0], &c, 1) != 0)
				_exit(1); /* start is a close of the pipe: read returns 0 */
			uint64_t ops = 0, errors = 0;
			uint64_t deadline = kb_now_ns() + (uint64_t)(seconds * 1e9);
			struct kmonitor_cmd cmd = { .pid = target, .type = KMONITOR_PROCESS_EXIT, .signal = sig };
			for (;;) {
				for (int i = 0; i < 64; i++) {
					if (floor_mode) {
						if (ioctl(fd, KB_IOW_UNKNOWN, &cmd) != -1 || errno != EINVAL)
							errors++;
						ops++;
					} else {
						if (ioctl(fd, KMONITOR_IOW_REGISTER, &cmd) != 0)
							errors++;
						if (ioctl(fd, KMONITOR_IOW_DEREGISTER, &cmd) != 0)
							errors++;
						ops += 2;
					}
				}
				if (kb_now_ns() >= deadline)
					break;
			}
			results[w].ops = ops;
			results[w].errors = errors;
			_exit(0);
		}
	}
	close(ready[1]);
	close(start[0]);
	for (int w = 0; w < procs; w++) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			KB_DIE("a monitor failed to start");
	}
	uint64_t t0 = kb_now_ns();
	close(start[1]);
	for (int w = 0; w < procs; w++) {
		int status;
		waitpid(workers[w], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			KB_DIE("a monitor failed");
	}
	double elapsed = (double)(kb_now_ns() - t0) / 1e9;
	uint64_t ops = 0, errors = 0;
	for (int w = 0; w < procs; w++) {
		ops += results[w].ops;
		errors += results[w].errors;
	}
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	printf("ops=%llu\nseconds=%.3f\nops_per_s=%.0f\nerrors=%llu\n", (unsigned long long)ops, elapsed,
	       (double)ops / elapsed, (unsigned long long)errors);
	return 0;
}
