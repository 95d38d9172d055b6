/*
 * kb_records.c - one reader of KMONITOR_SCOPE_ALL records while a command runs (the fork storm).
 *
 *   kb_records DEVICE BUFFER_RECORDS -- COMMAND [ARG...]
 *
 * Opens DEVICE, SUBSCRIBEs to every process (KMONITOR_SCOPE_ALL, signal 0:
 * records on this file) for PROCESS_FORK, PROCESS_EXEC and PROCESS_EXIT,
 * then runs COMMAND (its stdout is ours) and reads records, BUFFER_RECORDS
 * x 64 bytes per read(2), with poll(2) between reads, as a monitor that
 * keeps up would.  The subscription is in place before COMMAND starts, so
 * every event of COMMAND and its descendants is one we must see.
 *
 * We stop when COMMAND has exited and its own PROCESS_EXIT record has been
 * read: the daemon handles events in order, so every earlier event's record
 * is then in too.  (If it never comes: after 10 s, and rec_drain_timeout=1.)
 *
 * Counts records per type, KMONITOR_EVENT_LOST records and the records they
 * say were dropped, and gaps in seq (which must run 1, 2, 3, ... with LOST
 * records counted).  Prints, after COMMAND's own output, key=value lines:
 * rec_records, rec_fork, rec_exec, rec_exit, rec_other, rec_lost_records,
 * rec_lost, rec_seq_gaps, rec_cmd_forks (FORK records whose ppid is COMMAND:
 * the forks it made itself), rec_cmd_exit_seen, rec_drain_ms (COMMAND's exit
 * to its EXIT record), rec_drain_timeout, rec_reads, rec_max_batch (records
 * in the fullest read), rec_seconds (COMMAND's run), rec_cpu_ms (ours).
 */
#include "common.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define DRAIN_LIMIT_NS 10000000000ull

struct counts {
	uint64_t records, fork, exec, exit, other, lost_records, lost, seq_gaps, cmd_forks;
	uint64_t reads, max_batch;
	uint32_t last_seq;
	int cmd_exit_seen;
};

static void count(struct counts *c, const struct kmonitor_event *ev, pid_t cmd)
{
	c->records++;
	if (ev->seq != c->last_seq + 1)
		c->seq_gaps++;
	c->last_seq = ev->seq;
	switch (ev->type) {
	case KMONITOR_PROCESS_FORK:
		c->fork++;
		if (ev->ppid == cmd)
			c->cmd_forks++;
		break;
	case KMONITOR_PROCESS_EXEC:
		c->exec++;
		break;
	case KMONITOR_PROCESS_EXIT:
		c->exit++;
		if (ev->pid == cmd)
			c->cmd_exit_seen = 1;
		break;
	case KMONITOR_EVENT_LOST:
		c->lost_records++;
		c->lost += (uint64_t)ev->status;
		break;
	default:
		c->other++;
	}
}

/* Reads what is queued now (the file is non-blocking); false on a read error. */
static int drain(int fd, struct kmonitor_event *buf, size_t records, struct counts *c, pid_t cmd)
{
	for (;;) {
		ssize_t n = read(fd, buf, records * sizeof *buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			fprintf(stderr, "kb_records: read: %s\n", n < 0 ? strerror(errno) : "end of file");
			return 0;
		}
		if (n % (ssize_t)sizeof *buf != 0) {
			fprintf(stderr, "kb_records: read %zd bytes, not whole records\n", n);
			return 0;
		}
		size_t got = (size_t)n / sizeof *buf;
		c->reads++;
		if (got > c->max_batch)
			c->max_batch = got;
		for (size_t i = 0; i < got; i++)
			count(c, &buf[i], cmd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0)
		KB_DIE("usage: kb_records DEVICE BUFFER_RECORDS -- COMMAND [ARG...]");
	const char *device = argv[1];
	long records = atol(argv[2]);
	if (records < 1 || records > 1 << 20)
		KB_DIE("kb_records: BUFFER_RECORDS must be 1..%d", 1 << 20);
	struct kmonitor_event *buf = calloc((size_t)records, sizeof *buf);
	if (!buf)
		KB_DIE("kb_records: out of memory");

	int fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		KB_DIE("open %s: %s", device, strerror(errno));
	struct kmonitor_subscription sub = {
		.scope = KMONITOR_SCOPE_ALL,
		.type = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT,
		.signal = 0,
	};
	if (ioctl(fd, KMONITOR_IOWR_SUBSCRIBE, &sub) != 0)
		KB_DIE("SUBSCRIBE (ALL): %s", strerror(errno));

	fflush(stdout);
	pid_t cmd = fork();
	if (cmd < 0)
		KB_DIE("fork: %s", strerror(errno));
	if (cmd == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[4], &argv[4]);
		fprintf(stderr, "kb_records: exec %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	uint64_t t0 = kb_now_ns();
	int cmd_fd = kb_pidfd_open(cmd);
	if (cmd_fd < 0)
		KB_DIE("pidfd_open: %s", strerror(errno));

	struct counts c = { 0 };
	int cmd_status = -1, ok = 1;
	uint64_t t_exit = 0;
	while (ok) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = cmd_fd, .events = POLLIN } };
		int n = poll(p, cmd_status < 0 ? 2 : 1, 100);
		if (n < 0 && errno != EINTR)
			KB_DIE("poll: %s", strerror(errno));
		if (n > 0 && p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			fprintf(stderr, "kb_records: poll reports 0x%x on the device\n", (unsigned)p[0].revents);
			ok = 0;
		}
		if (n > 0 && p[0].revents & POLLIN)
			ok = drain(fd, buf, (size_t)records, &c, cmd) && ok;
		if (cmd_status < 0 && waitpid(cmd, &cmd_status, WNOHANG) == cmd)
			t_exit = kb_now_ns();
		if (cmd_status >= 0 && c.cmd_exit_seen)
			break;
		if (cmd_status >= 0 && kb_now_ns() - t_exit > DRAIN_LIMIT_NS)
			break;
	}
	uint64_t t_done = kb_now_ns();
	close(cmd_fd);
	close(fd);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	printf("rec_records=%llu\nrec_fork=%llu\nrec_exec=%llu\nrec_exit=%llu\nrec_other=%llu\n",
	       (unsigned long long)c.records, (unsigned long long)c.fork, (unsigned long long)c.exec,
	       (unsigned long long)c.exit, (unsigned long long)c.other);
	printf("rec_lost_records=%llu\nrec_lost=%llu\nrec_seq_gaps=%llu\nrec_cmd_forks=%llu\nrec_cmd_exit_seen=%d\n",
	       (unsigned long long)c.lost_records, (unsigned long long)c.lost, (unsigned long long)c.seq_gaps,
	       (unsigned long long)c.cmd_forks, c.cmd_exit_seen);
	printf("rec_drain_ms=%.1f\nrec_drain_timeout=%d\nrec_reads=%llu\nrec_max_batch=%llu\n",
	       t_exit ? (double)(t_done - t_exit) / 1e6 : -1.0, !c.cmd_exit_seen, (unsigned long long)c.reads,
	       (unsigned long long)c.max_batch);
	printf("rec_seconds=%.3f\nrec_cpu_ms=%.1f\nrec_cmd_status=%d\n", t_exit ? (double)(t_exit - t0) / 1e9 : -1.0, cpu_ms,
	       cmd_status >= 0 && WIFEXITED(cmd_status) ? WEXITSTATUS(cmd_status) : -1);
	free(buf);
	return ok && cmd_status >= 0 && WIFEXITED(cmd_status) && WEXITSTATUS(cmd_status) == 0 ? 0 : 1;
}
