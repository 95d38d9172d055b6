/*
 * kb_latency.c - exit-notification latency: kmonitord vs a raw netlink
 * process-connector listener vs a pidfd poll.
 *
 *   kb_latency DEVICE N [WARMUP]
 *
 * For each of N rounds (after WARMUP unrecorded ones) it forks one child per
 * method, in an order that rotates every round so no method always goes
 * first.  Each child waits on a pipe until its monitor is ready, writes
 * CLOCK_MONOTONIC into shared memory and calls _exit(0) at once.  The
 * monitor takes the clock as soon as it learns of the exit:
 *
 *   kmonitor  REGISTER (child, PROCESS_EXIT, SIGRTMIN+1) on DEVICE, then
 *             sigwaitinfo on the blocked signal;
 *   netlink   a NETLINK_CONNECTOR socket of its own (PROC_CN_MCAST_LISTEN,
 *             same event filter as kmonitord), drained before the child
 *             goes, then recv until the child's PROC_EVENT_EXIT;
 *   pidfd     pidfd_open(child), then poll for POLLIN.
 *
 * Prints key=value lines: METHOD_{p50,p90,p99,max,mean}_us and
 * METHOD_n for each method, and "timeouts=N" (a method that learned
 * nothing within 5 s; never expected).
 */
#include "common.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>

enum { M_KMONITOR, M_NETLINK, M_PIDFD, M_COUNT };
static const char *const method_name[M_COUNT] = { "kmonitor", "netlink", "pidfd" };

#define TIMEOUT_MS 5000

static volatile uint64_t *shared_t0;
static int device_fd, netlink_fd, sig;
static int timeouts;

struct exit_match {
	pid_t pid;
	int found;
};

static void match_exit(const struct proc_event *ev, void *arg)
{
	struct exit_match *m = arg;
	if (ev->what == PROC_EVENT_EXIT && ev->event_data.exit.process_pid == m->pid
	    && ev->event_data.exit.process_tgid == m->pid)
		m->found = 1;
}

static void drain_netlink(void)
{
	char buf[16384];
	while (recv(netlink_fd, buf, sizeof buf, MSG_DONTWAIT) > 0 || errno == ENOBUFS)
		;
}

/* One child, one method; returns the latency in ns, or 0 on a timeout. */
static uint64_t measure(int method)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) != 0)
		KB_DIE("pipe: %s", strerror(errno));
	*shared_t0 = 0;
	pid_t child = fork();
	if (child < 0)
		KB_DIE("fork: %s", strerror(errno));
	if (child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		__atomic_store_n(shared_t0, kb_now_ns(), __ATOMIC_SEQ_CST);
		_exit(0);
	}
	close(go[0]);

	uint64_t t1 = 0;
	int pidfd = -1;
	switch (method) {
	case M_KMONITOR: {
		int error = kb_ioctl(device_fd, KMONITOR_IOW_REGISTER, child, KMONITOR_PROCESS_EXIT, sig);
		if (error)
			KB_DIE("REGISTER %d: %s", (int)child, strerror(error));
		break;
	}
	case M_NETLINK:
		drain_netlink();
		break;
	case M_PIDFD:
		pidfd = kb_pidfd_open(child);
		if (pidfd < 0)
			KB_DIE("pidfd_open: %s", strerror(errno));
		break;
	}
	if (write(go[1], "g", 1) != 1)
		KB_DIE("write: %s", strerror(errno));
	close(go[1]);

	switch (method) {
	case M_KMONITOR: {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		struct timespec timeout = { TIMEOUT_MS / 1000, 0 };
		for (;;) {
			siginfo_t si;
			int got = sigtimedwait(&set, &si, &timeout);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				break; /* EAGAIN: timeout */
			}
			if (si.si_pid == child && si.si_int == KMONITOR_PROCESS_EXIT) {
				t1 = kb_now_ns();
				break;
			}
		}
		break;
	}
	case M_NETLINK: {
		char buf[16384] __attribute__((aligned(8)));
		struct exit_match m = { .pid = child };
		uint64_t deadline = kb_now_ns() + (uint64_t)TIMEOUT_MS * 1000000;
		while (!m.found && kb_now_ns() < deadline) {
			struct pollfd p = { .fd = netlink_fd, .events = POLLIN };
			if (poll(&p, 1, 100) <= 0)
				continue;
			ssize_t n = recv(netlink_fd, buf, sizeof buf, 0);
			if (n > 0)
				kb_cn_parse(buf, n, match_exit, &m);
			if (m.found)
				t1 = kb_now_ns();
		}
		break;
	}
	case M_PIDFD: {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		if (poll(&p, 1, TIMEOUT_MS) == 1)
			t1 = kb_now_ns();
		close(pidfd);
		break;
	}
	}
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	uint64_t t0 = __atomic_load_n(shared_t0, __ATOMIC_SEQ_CST);
	if (t1 == 0 || t0 == 0 || t1 < t0) {
		timeouts++;
		return 0;
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		KB_DIE("usage: kb_latency DEVICE N [WARMUP]");
	int n = atoi(argv[2]);
	int warmup = argc > 3 ? atoi(argv[3]) : 30;
	if (n < 1 || warmup < 0)
		KB_DIE("kb_latency: bad N or WARMUP");

	shared_t0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_t0 == MAP_FAILED)
		KB_DIE("mmap: %s", strerror(errno));
	sig = SIGRTMIN + 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);

	device_fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (device_fd < 0)
		KB_DIE("open %s: %s", argv[1], strerror(errno));
	netlink_fd = kb_cn_open(4 << 20);

	uint64_t *lat[M_COUNT];
	size_t count[M_COUNT] = { 0 };
	for (int m = 0; m < M_COUNT; m++)
		lat[m] = calloc((size_t)n, sizeof(uint64_t));
	for (int round = 0; round < warmup + n; round++) {
		for (int k = 0; k < M_COUNT; k++) {
			int m = (round + k) % M_COUNT;
			uint64_t ns = measure(m);
			if (round >= warmup && ns)
				lat[m][count[m]++] = ns;
		}
	}

	for (int m = 0; m < M_COUNT; m++) {
		qsort(lat[m], count[m], sizeof(uint64_t), kb_cmp_u64);
		double sum = 0;
		for (size_t i = 0; i < count[m]; i++)
			sum += (double)lat[m][i];
		const char *name = method_name[m];
		printf("%s_n=%zu\n", name, count[m]);
		printf("%s_p50_us=%.1f\n", name, kb_percentile(lat[m], count[m], 50) / 1000.0);
		printf("%s_p90_us=%.1f\n", name, kb_percentile(lat[m], count[m], 90) / 1000.0);
		printf("%s_p99_us=%.1f\n", name, kb_percentile(lat[m], count[m], 99) / 1000.0);
		printf("%s_max_us=%.1f\n", name, count[m] ? lat[m][count[m] - 1] / 1000.0 : 0.0);
		printf("%s_mean_us=%.1f\n", name, count[m] ? sum / (double)count[m] / 1000.0 : 0.0);
	}
	printf("timeouts=%d\n", timeouts);
	close(netlink_fd);
	close(device_fd);
	return 0;
}
