/*
 * kb_storm.c - fork storm: how many events per second the daemon keeps up with.
 *
 *   kb_storm DEVICE SECONDS THREADS VICTIMS DAEMON_PID
 *
 * We (the storm's parent) register ourselves for PROCESS_FORK (SIGRTMIN+2)
 * and VICTIMS sleeping children of ours for PROCESS_EXIT (SIGRTMIN+3).
 * Then THREADS threads fork children that _exit(0) at once, and reap them,
 * as fast as they can for SECONDS; half way through, every victim is killed
 * (SIGKILL).  A thread of ours collects the notifications with a signalfd.
 * After the storm we wait until every expected notification is in, or until
 * none has come for 3 s.
 *
 * Beside it, in a process of its own, a raw netlink process-connector
 * listener (same event filter and receive buffer as kmonitord) counts the
 * same events: the reference.  The daemon's CPU time is read from
 * /proc/DAEMON_PID/stat before the storm and after the drain.
 *
 * Prints key=value lines: forks, seconds, forks_per_s, events_per_s (FORK +
 * EXIT events our storm made per second), fork_notifications, victims,
 * exit_notifications, drain_ms, daemon_cpu_ms, ref_events, ref_forks,
 * ref_victim_exits, ref_enobufs, ref_cpu_ms.
 */
#include "common.h"

#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

static volatile int stopping;
static int sig_fork, sig_exit;
static uint64_t fork_notifications, exit_notifications; /* atomics */
static pid_t *victims;
static int nvictims;
static pid_t self;

static void *forker(void *arg)
{
	uint64_t *forks = arg;
	while (!__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
		pid_t child = fork();
		if (child == 0)
			_exit(0);
		if (child < 0) {
			if (errno == EAGAIN) {
				usleep(100);
				continue;
			}
			KB_DIE("fork: %s", strerror(errno));
		}
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		(*forks)++;
	}
	return NULL;
}

static volatile int collector_stop;

static void *collector(void *arg)
{
	int sfd = *(int *)arg;
	struct signalfd_siginfo infos[64];
	while (!__atomic_load_n(&collector_stop, __ATOMIC_RELAXED)) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = read(sfd, infos, sizeof infos);
		if (n <= 0)
			continue;
		for (size_t i = 0; i < (size_t)n / sizeof infos[0]; i++) {
			if ((int)infos[i].ssi_signo == sig_fork && infos[i].ssi_int == KMONITOR_PROCESS_FORK)
				__atomic_add_fetch(&fork_notifications, 1, __ATOMIC_RELAXED);
			else if ((int)infos[i].ssi_signo == sig_exit && infos[i].ssi_int == KMONITOR_PROCESS_EXIT)
				__atomic_add_fetch(&exit_notifications, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* ---- the reference listener, in its own process ---- */

struct ref_counts {
	uint64_t events, forks, victim_exits, enobufs;
	double cpu_ms;
};

static void ref_count(const struct proc_event *ev, void *arg)
{
	struct ref_counts *c = arg;
	if (ev->what == PROC_EVENT_NONE)
		return;
	c->events++;
	if (ev->what == PROC_EVENT_FORK && ev->event_data.fork.parent_tgid == self
	    && ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
		c->forks++;
	else if (ev->what == PROC_EVENT_EXIT && ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid) {
		for (int i = 0; i < nvictims; i++)
			if (victims[i] == ev->event_data.exit.process_pid) {
				c->victim_exits++;
				break;
			}
	}
}

static void ref_listener(int ready_fd, int stop_fd, int result_fd)
{
	int nl = kb_cn_open(8 << 20);
	char ok = 'r';
	if (write(ready_fd, &ok, 1) != 1)
		_exit(1);
	struct ref_counts c = { 0 };
	static char buf[65536] __attribute__((aligned(8)));
	for (;;) {
		struct pollfd p[2] = { { .fd = nl, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			ssize_t n = recv(nl, buf, sizeof buf, MSG_DONTWAIT);
			if (n > 0)
				kb_cn_parse(buf, n, ref_count, &c);
			else if (n < 0 && errno == ENOBUFS)
				c.enobufs++;
		}
		if (p[1].revents)
			break;
	}
	for (;;) { /* what is still queued was sent during the storm too */
		ssize_t n = recv(nl, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			kb_cn_parse(buf, n, ref_count, &c);
		else if (n < 0 && errno == ENOBUFS)
			c.enobufs++;
		else
			break;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	c.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (write(result_fd, &c, sizeof c) != (ssize_t)sizeof c)
		_exit(1);
	_exit(0);
}

static void sleep_until(uint64_t t)
{
	for (uint64_t now; (now = kb_now_ns()) < t;) {
		uint64_t d = t - now;
		struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc != 6)
		KB_DIE("usage: kb_storm DEVICE SECONDS THREADS VICTIMS DAEMON_PID");
	const char *device = argv[1];
	double seconds = atof(argv[2]);
	int threads = atoi(argv[3]);
	nvictims = atoi(argv[4]);
	pid_t daemon_pid = atoi(argv[5]);
	if (seconds <= 0 || threads < 1 || threads > 64 || nvictims < 0 || daemon_pid <= 0)
		KB_DIE("kb_storm: bad arguments");
	self = getpid();

	sig_fork = SIGRTMIN + 2;
	sig_exit = SIGRTMIN + 3;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig_fork);
	sigaddset(&set, sig_exit);
	sigprocmask(SIG_BLOCK, &set, NULL); /* every thread inherits it */
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		KB_DIE("signalfd: %s", strerror(errno));

	int fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		KB_DIE("open %s: %s", device, strerror(errno));

	victims = calloc((size_t)nvictims + 1, sizeof(pid_t));
	for (int i = 0; i < nvictims; i++) {
		victims[i] = fork();
		if (victims[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}

	int ready[2], stop[2], result[2];
	if (pipe(ready) || pipe(stop) || pipe(result))
		KB_DIE("pipe: %s", strerror(errno));
	pid_t ref = fork();
	if (ref == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		close(stop[1]);
		close(result[0]);
		ref_listener(ready[1], stop[0], result[1]);
	}
	close(ready[1]);
	close(stop[0]);
	close(result[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		KB_DIE("the reference listener failed to start");

	for (int i = 0; i < nvictims; i++) {
		int error = kb_ioctl(fd, KMONITOR_IOW_REGISTER, victims[i], KMONITOR_PROCESS_EXIT, sig_exit);
		if (error)
			KB_DIE("REGISTER victim %d: %s", (int)victims[i], strerror(error));
	}
	int error = kb_ioctl(fd, KMONITOR_IOW_REGISTER, self, KMONITOR_PROCESS_FORK, sig_fork);
	if (error)
		KB_DIE("REGISTER self: %s", strerror(error));

	pthread_t collector_thread;
	pthread_create(&collector_thread, NULL, collector, &sfd);

	long long cpu_before = kb_cpu_ticks(daemon_pid);
	uint64_t forks[64] = { 0 };
	pthread_t forkers[64];
	uint64_t t0 = kb_now_ns();
	for (int i = 0; i < threads; i++)
		pthread_create(&forkers[i], NULL, forker, &forks[i]);
	sleep_until(t0 + (uint64_t)(seconds * 0.5e9));
	for (int i = 0; i < nvictims; i++)
		kill(victims[i], SIGKILL);
	for (int i = 0; i < nvictims; i++)
		while (waitpid(victims[i], NULL, 0) < 0 && errno == EINTR)
			;
	sleep_until(t0 + (uint64_t)(seconds * 1e9));
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	uint64_t total = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(forkers[i], NULL);
		total += forks[i];
	}
	uint64_t t1 = kb_now_ns();

	/* The drain: every expected notification, or 3 s without a new one (20 s at most). */
	uint64_t last_change = t1, last_seen = 0;
	uint64_t t2 = t1;
	for (;;) {
		uint64_t f = __atomic_load_n(&fork_notifications, __ATOMIC_RELAXED);
		uint64_t e = __atomic_load_n(&exit_notifications, __ATOMIC_RELAXED);
		uint64_t now = kb_now_ns();
		if (f + e != last_seen) {
			last_seen = f + e;
			last_change = now;
		}
		if (f >= total && e >= (uint64_t)nvictims) {
			t2 = now;
			break;
		}
		if (now - last_change > 3000000000ull || now - t1 > 20000000000ull) {
			t2 = last_change;
			break;
		}
		usleep(1000);
	}
	long long cpu_after = kb_cpu_ticks(daemon_pid);
	__atomic_store_n(&collector_stop, 1, __ATOMIC_RELAXED);
	pthread_join(collector_thread, NULL);

	if (write(stop[1], "s", 1) != 1)
		KB_DIE("stopping the reference listener: %s", strerror(errno));
	struct ref_counts rc = { 0 };
	if (read(result[0], &rc, sizeof rc) != (ssize_t)sizeof rc)
		KB_DIE("the reference listener reported nothing");
	waitpid(ref, NULL, 0);
	close(fd);

	double elapsed = (double)(t1 - t0) / 1e9;
	printf("forks=%llu\nseconds=%.3f\nforks_per_s=%.0f\nevents_per_s=%.0f\n", (unsigned long long)total, elapsed,
	       (double)total / elapsed, 2.0 * (double)total / elapsed);
	printf("fork_notifications=%llu\nvictims=%d\nexit_notifications=%llu\n",
	       (unsigned long long)fork_notifications, nvictims, (unsigned long long)exit_notifications);
	printf("drain_ms=%.1f\n", (double)(t2 > t1 ? t2 - t1 : 0) / 1e6);
	printf("daemon_cpu_ms=%.1f\n", cpu_before >= 0 && cpu_after >= 0 ? kb_ticks_to_ms(cpu_after - cpu_before) : -1.0);
	printf("ref_events=%llu\nref_forks=%llu\nref_victim_exits=%llu\nref_enobufs=%llu\nref_cpu_ms=%.1f\n",
	       (unsigned long long)rc.events, (unsigned long long)rc.forks, (unsigned long long)rc.victim_exits,
	       (unsigned long long)rc.enobufs, rc.cpu_ms);
	return 0;
}
