/*
 * kb_populate.c - fills the daemon's table with live, unrelated registrations.
 *
 *   kb_populate DEVICE FILES TARGETS PROCS
 *
 * Forks TARGETS long-lived sleepers (pause(); they die with us) and PROCS
 * monitor processes that share FILES open files of DEVICE between them.
 * Through each file every sleeper is registered once for PROCESS_EXIT
 * (SIGRTMIN+1, blocked and never sent: the sleepers outlive the run), so
 * the table holds FILES x TARGETS registrations on TARGETS distinct
 * processes, made by PROCS monitor processes.
 *
 * Prints registered=N seconds=S per_s=R once every registration is in,
 * then holds them until its standard input reaches end of file (or it gets
 * SIGTERM); then it kills its monitors and sleepers and exits.  Stop the
 * daemon first when the table is large: every file closing makes the
 * daemon remove its registrations one by one.
 */
#include "common.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

static pid_t *sleepers, *monitors;
static int targets, procs;

static void kill_all(void)
{
	for (int w = 0; w < procs; w++)
		if (monitors[w] > 0)
			kill(monitors[w], SIGKILL);
	for (int t = 0; t < targets; t++)
		if (sleepers[t] > 0)
			kill(sleepers[t], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
	if (argc != 5)
		KB_DIE("usage: kb_populate DEVICE FILES TARGETS PROCS");
	const char *device = argv[1];
	int files = atoi(argv[2]);
	targets = atoi(argv[3]);
	procs = atoi(argv[4]);
	if (files < 1 || targets < 1 || procs < 1)
		KB_DIE("kb_populate: bad arguments");

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)(files / procs + 16) > rl.rlim_cur)
		KB_DIE("kb_populate: %d files per process exceed the open-file limit %ld", files / procs, (long)rl.rlim_cur);

	int sig = SIGRTMIN + 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);

	sleepers = calloc((size_t)targets, sizeof(pid_t));
	monitors = calloc((size_t)procs, sizeof(pid_t));
	for (int t = 0; t < targets; t++) {
		sleepers[t] = fork();
		if (sleepers[t] < 0) {
			kill_all();
			KB_DIE("fork: %s", strerror(errno));
		}
		if (sleepers[t] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}

	int done[2];
	if (pipe(done) != 0)
		KB_DIE("pipe: %s", strerror(errno));
	uint64_t t0 = kb_now_ns();
	for (int w = 0; w < procs; w++) {
		monitors[w] = fork();
		if (monitors[w] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(done[0]);
			char verdict = 'k';
			for (int f = w; f < files; f += procs) {
				int fd = open(device, O_RDWR | O_CLOEXEC);
				if (fd < 0) {
					fprintf(stderr, "kb_populate: open %s: %s\n", device, strerror(errno));
					verdict = 'f';
					break;
				}
				for (int t = 0; t < targets; t++) {
					int error = kb_ioctl(fd, KMONITOR_IOW_REGISTER, sleepers[t], KMONITOR_PROCESS_EXIT, sig);
					if (error) {
						fprintf(stderr, "kb_populate: REGISTER %d: %s\n", (int)sleepers[t], strerror(error));
						verdict = 'f';
						break;
					}
				}
				if (verdict != 'k')
					break;
			}
			if (write(done[1], &verdict, 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	close(done[1]);
	int failed = 0;
	for (int w = 0; w < procs; w++) {
		char verdict = 0;
		if (read(done[0], &verdict, 1) != 1 || verdict != 'k')
			failed = 1;
	}
	double seconds = (double)(kb_now_ns() - t0) / 1e9;
	if (failed) {
		kill_all();
		KB_DIE("kb_populate: registering failed");
	}
	long long n = (long long)files * targets;
	printf("registered=%lld\nseconds=%.3f\nper_s=%.0f\n", n, seconds, (double)n / seconds);
	fflush(stdout);

	char buf[256];
	while (!stop) {
		ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	kill_all();
	return 0;
}
