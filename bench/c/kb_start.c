/*
 * kb_start.c - time from process start to a usable device, and idle RSS.
 *
 *   kb_start DEVICE RUNS IDLE_SECONDS -- PROGRAM [ARG...]
 *
 * Starts PROGRAM RUNS times.  Each time it takes the clock just before
 * fork+exec, then watches two things at once: the program's standard error,
 * for the line containing "ready:" (what kmonitord logs once it serves), and
 * DEVICE, which a thread tries to open every 200 us (DEVICE "-" skips that:
 * for a reference program that has no device).  After the last run's ready
 * line it waits IDLE_SECONDS and reads the program's VmRSS.  Each run ends
 * with SIGTERM and a wait; the program must exit 0.
 *
 * Prints ready_ms_{median,min,max}, open_ms_{median,min,max} (when DEVICE
 * is given) and rss_idle_kib.
 */
#include "common.h"

#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>

static const char *device;
static volatile int probe_stop;
static uint64_t opened_at;

static void *probe(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&probe_stop, __ATOMIC_RELAXED)) {
		int fd = open(device, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			__atomic_store_n(&opened_at, kb_now_ns(), __ATOMIC_SEQ_CST);
			close(fd);
			return NULL;
		}
		usleep(200);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void summary(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	printf("%s_median=%.1f\n%s_min=%.1f\n%s_max=%.1f\n", name, v[n / 2], name, v[0], name, v[n - 1]);
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0)
		KB_DIE("usage: kb_start DEVICE RUNS IDLE_SECONDS -- PROGRAM [ARG...]");
	device = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
	int runs = atoi(argv[2]);
	double idle = atof(argv[3]);
	char **program = argv + 5;
	if (runs < 1 || runs > 100)
		KB_DIE("kb_start: RUNS must be 1..100");

	double ready_ms[100], open_ms[100];
	long rss = -1;
	for (int run = 0; run < runs; run++) {
		if (device && access(device, F_OK) == 0)
			KB_DIE("kb_start: %s exists before the program starts", device);
		int err[2];
		if (pipe2(err, O_CLOEXEC) != 0)
			KB_DIE("pipe: %s", strerror(errno));
		opened_at = 0;
		probe_stop = 0;
		pthread_t prober;
		uint64_t t0 = kb_now_ns();
		pid_t child = fork();
		if (child == 0) {
			dup2(err[1], STDERR_FILENO);
			execvp(program[0], program);
			_exit(127);
		}
		close(err[1]);
		if (device)
			pthread_create(&prober, NULL, probe, NULL);

		/* Read standard error line by line until "ready:". */
		char buf[8192];
		size_t have = 0;
		uint64_t ready_at = 0;
		while (!ready_at) {
			struct pollfd p = { .fd = err[0], .events = POLLIN };
			if (poll(&p, 1, 30000) <= 0) {
				kill(child, SIGKILL);
				KB_DIE("kb_start: no ready line within 30 s");
			}
			ssize_t n = read(err[0], buf + have, sizeof buf - 1 - have);
			if (n <= 0) {
				buf[have] = '\0';
				KB_DIE("kb_start: the program ended before it was ready:\n%s", buf);
			}
			uint64_t now = kb_now_ns();
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, "ready:"))
				ready_at = now;
			char *nl = strrchr(buf, '\n');
			if (nl && !ready_at) { /* keep only the unfinished line */
				size_t rest = have - (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, rest);
				have = rest;
			}
			if (have == sizeof buf - 1)
				have = 0;
		}
		ready_ms[run] = (double)(ready_at - t0) / 1e6;
		if (device) {
			uint64_t deadline = kb_now_ns() + 10000000000ull;
			while (!__atomic_load_n(&opened_at, __ATOMIC_SEQ_CST) && kb_now_ns() < deadline)
				usleep(200);
			__atomic_store_n(&probe_stop, 1, __ATOMIC_RELAXED);
			pthread_join(prober, NULL);
			if (!opened_at) {
				kill(child, SIGKILL);
				KB_DIE("kb_start: %s did not open within 10 s of the ready line", device);
			}
			open_ms[run] = (double)(opened_at - t0) / 1e6;
		}
		if (run == runs - 1) {
			usleep((useconds_t)(idle * 1e6));
			rss = kb_rss_kib(child);
		}
		kill(child, SIGTERM);
		/* Keep its standard error drained while it stops. */
		for (;;) {
			struct pollfd p = { .fd = err[0], .events = POLLIN };
			if (poll(&p, 1, 10000) <= 0 || read(err[0], buf, sizeof buf) <= 0)
				break;
		}
		int status;
		waitpid(child, &status, 0);
		close(err[0]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			KB_DIE("kb_start: the program did not exit 0 after SIGTERM (status 0x%x)", status);
	}
	summary("ready_ms", ready_ms, runs);
	if (device)
		summary("open_ms", open_ms, runs);
	printf("rss_idle_kib=%ld\n", rss);
	return 0;
}
