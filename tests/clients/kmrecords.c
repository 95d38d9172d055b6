/*
 * kmrecords.c - kmclient's commands for the records and subscriptions of
 * include/linux/kmonitor.h: SUBSCRIBE / UNSUBSCRIBE, read(2) of struct
 * kmonitor_event records (blocking, O_NONBLOCK, ended by a timer or by a
 * signal), poll, select, edge-triggered epoll, and write.  The protocol is
 * documented at the top of kmclient.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#include "common.h"
#include "kmrecords.h"

/* Set by the SIGALRM handler when our own timer (not someone's kill) fired. */
static volatile sig_atomic_t timer_fired;

static void on_alarm(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (si->si_code == SI_TIMER)
		timer_fired = 1;
}

/*
 * The handler decides whether an interrupted read(2) is restarted by the
 * C library's kernel: without SA_RESTART it must return EINTR; with it, a
 * FUSE or CUSE device still answers EINTR (kmonitor(4) says so).
 */
static int install_alarm(bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_alarm;
	sa.sa_flags = SA_SIGINFO | (restart ? SA_RESTART : 0);
	return sigaction(SIGALRM, &sa, NULL);
}

int records_init(void)
{
	return install_alarm(false);
}

static const char *type_name(unsigned type)
{
	switch (type) {
	case KMONITOR_THREAD_CREATE: return "KMONITOR_THREAD_CREATE";
	case KMONITOR_THREAD_ABORT: return "KMONITOR_THREAD_ABORT";
	case KMONITOR_THREAD_EXIT: return "KMONITOR_THREAD_EXIT";
	case KMONITOR_PROCESS_FORK: return "KMONITOR_PROCESS_FORK";
	case KMONITOR_PROCESS_ABORT: return "KMONITOR_PROCESS_ABORT";
	case KMONITOR_PROCESS_EXEC: return "KMONITOR_PROCESS_EXEC";
	case KMONITOR_PROCESS_EXIT: return "KMONITOR_PROCESS_EXIT";
	case KMONITOR_PROCESS_EXISTING: return "KMONITOR_PROCESS_EXISTING";
	case KMONITOR_EVENT_LOST: return "KMONITOR_EVENT_LOST";
	default: return NULL;
	}
}

static void print_record(const struct kmonitor_event *e)
{
	const char *name = type_name(e->type);

	printf("rec ");
	if (name)
		printf("%s", name);
	else
		printf("0x%X", (unsigned)e->type);
	printf(" %u %d %d %d %u %d %u %u %llu %llu ", (unsigned)e->seq,
	       (int)e->pid, (int)e->tgid, (int)e->ppid, (unsigned)e->uid,
	       (int)e->status, (unsigned)e->watch, (unsigned)e->size,
	       (unsigned long long)e->reserved,
	       (unsigned long long)e->time_ns);
	/* One word, whatever the name holds: a test may rename to "a b". */
	for (size_t i = 0; i < sizeof(e->comm) && e->comm[i]; i++) {
		unsigned char c = (unsigned char)e->comm[i];

		if (c <= ' ' || c >= 0x7f || c == '\\')
			printf("\\x%02X", c);
		else
			putchar(c);
	}
	putchar('\n');
}

/* The answer to a read(2) that returned n bytes of buf: "ok N" and the records. */
static void print_read(const void *buf, ssize_t n)
{
	struct kmonitor_event e;

	if (n % (ssize_t)sizeof(e) != 0) {
		printf("err partial %zd\n", n);
		return;
	}
	printf("ok %zd\n", n / (ssize_t)sizeof(e));
	for (ssize_t off = 0; off < n; off += sizeof(e)) {
		memcpy(&e, (const char *)buf + off, sizeof(e));
		print_record(&e);
	}
}

static bool parse_u32(const char *s, uint32_t *out)
{
	int v;

	if (!parse_int(s, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The six numbers of sub/subfill: FD SCOPE TYPE PID SIG FLAGS. */
static bool parse_sub(char **argv, int *fd, struct kmonitor_subscription *s)
{
	memset(s, 0, sizeof(*s));
	return parse_int(argv[0], fd) && parse_u32(argv[1], &s->scope) &&
	       parse_u32(argv[2], &s->type) && parse_int(argv[3], &s->pid) &&
	       parse_int(argv[4], &s->signal) && parse_u32(argv[5], &s->flags);
}

static void subscribe(int fd, struct kmonitor_subscription *s)
{
	s->id = 0;
	if (ioctl(fd, KMONITOR_IOWR_SUBSCRIBE, s) < 0)
		reply_err(errno);
	else
		printf("ok %u\n", (unsigned)s->id);
}

/*
 * "sub": the pattern is what follows the seventh word of the unsplit line
 * and one blank, verbatim (a regular expression may hold blanks).
 */
static void do_sub(const char *line, int argc, char **argv)
{
	struct kmonitor_subscription s;
	const char *p = line;
	size_t len;
	int fd;

	if (argc < 6 || !parse_sub(argv + 1, &fd, &s)) {
		printf("err usage\n");
		return;
	}
	for (int word = 0; word < 7; word++) {
		p += strspn(p, " \t");
		p += strcspn(p, " \t\r\n");
	}
	if (*p == ' ' || *p == '\t')
		p++;
	len = strcspn(p, "\r\n");
	if (len >= sizeof(s.pattern)) {
		printf("err usage\n");
		return;
	}
	memcpy(s.pattern, p, len);
	subscribe(fd, &s);
}

static void do_subfill(int argc, char **argv)
{
	struct kmonitor_subscription s;
	int fd, byte;

	if (argc != 7 || !parse_sub(argv + 1, &fd, &s) ||
	    !parse_int(argv[7], &byte)) {
		printf("err usage\n");
		return;
	}
	memset(s.pattern, byte, sizeof(s.pattern));
	subscribe(fd, &s);
}

static void do_unsub(int argc, char **argv)
{
	uint32_t id;
	int fd;

	if (argc != 2 || !parse_int(argv[1], &fd) || !parse_u32(argv[2], &id)) {
		printf("err usage\n");
		return;
	}
	if (ioctl(fd, KMONITOR_IOW_UNSUBSCRIBE, &id) < 0)
		reply_err(errno);
	else
		printf("ok\n");
}

static void *alloc_buffer(int argc, char **argv, int want, int *fd, int *size)
{
	void *buf;

	if (argc != want || !parse_int(argv[1], fd) ||
	    !parse_int(argv[2], size) || *size < 0)
		return NULL;
	buf = malloc(*size ? (size_t)*size : 1);
	return buf;
}

/* Clears O_NONBLOCK (a "readnb" that failed half-way must not leave it set). */
static int set_nonblock(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

/* A one-shot timer that sends SIGALRM after ms; 0 and *timer set, or -1. */
static int arm_timer(long long ms, timer_t *timer)
{
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, timer) < 0)
		return -1;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000;
	if (timer_settime(*timer, 0, &its, NULL) < 0) {
		timer_delete(*timer);
		return -1;
	}
	return 0;
}

static void do_read(int argc, char **argv)
{
	long long ms;
	timer_t timer;
	bool armed = false;
	int fd, size, err;
	ssize_t n;
	void *buf;

	if (argc != 3 || !parse_ll(argv[3], &ms) || ms < 0 ||
	    !(buf = alloc_buffer(argc, argv, 3, &fd, &size))) {
		printf("err usage\n");
		return;
	}
	if (set_nonblock(fd, false) < 0) {
		reply_err(errno);
		free(buf);
		return;
	}
	timer_fired = 0;
	if (ms > 0) {
		if (arm_timer(ms, &timer) < 0) {
			reply_err(errno);
			free(buf);
			return;
		}
		armed = true;
	}
	n = read(fd, buf, (size_t)size);
	err = errno;
	if (armed)
		timer_delete(timer);	/* a signal it already queued finds a handler that only notes it */
	if (n >= 0)
		print_read(buf, n);
	else if (err == EINTR && timer_fired)
		printf("timeout\n");
	else
		reply_err(err);
	free(buf);
}

static void do_readnb(int argc, char **argv)
{
	int fd, size, err;
	ssize_t n;
	void *buf;

	if (!(buf = alloc_buffer(argc, argv, 2, &fd, &size))) {
		printf("err usage\n");
		return;
	}
	if (set_nonblock(fd, true) < 0) {
		reply_err(errno);
		free(buf);
		return;
	}
	n = read(fd, buf, (size_t)size);
	err = errno;
	set_nonblock(fd, false);
	if (n >= 0)
		print_read(buf, n);
	else
		reply_err(err);
	free(buf);
}

struct interrupter {
	pid_t reader;		/* the thread blocked in read(2) */
	int fd;
	volatile bool done;	/* the read has returned: send nothing */
	bool sent;
};

/*
 * Whether the reader is asleep inside read(fd): /proc's syscall file names
 * the system call and its first argument while the thread is in one, and
 * stat's state is S while it sleeps there.
 */
static bool asleep_in_read(pid_t tid, int fd)
{
	char path[64], buf[256];
	long nr;
	unsigned long arg0;
	FILE *f;
	bool in_read = false, sleeping = false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%ld %lx", &nr, &arg0) == 2)
			in_read = nr == SYS_read && arg0 == (unsigned long)fd;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if ((f = fopen(path, "r"))) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		char *paren;

		buf[n] = '\0';
		paren = strrchr(buf, ')');
		sleeping = paren && paren[1] == ' ' && paren[2] == 'S';
		fclose(f);
	}
	return in_read && sleeping;
}

static void *interrupter_main(void *arg)
{
	struct interrupter *in = arg;
	const struct timespec tick = { 0, 1000000 };

	while (!in->done) {
		if (asleep_in_read(in->reader, in->fd)) {
			in->sent = syscall(SYS_tgkill, getpid(), in->reader, SIGALRM) == 0;
			return NULL;
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void do_readintr(int argc, char **argv)
{
	struct interrupter in = { 0 };
	pthread_t th;
	int fd, size, restart, err;
	ssize_t n;
	void *buf;

	if (argc != 3 || !parse_int(argv[3], &restart) ||
	    !(buf = alloc_buffer(argc, argv, 3, &fd, &size))) {
		printf("err usage\n");
		return;
	}
	if (set_nonblock(fd, false) < 0 || install_alarm(restart != 0) < 0) {
		reply_err(errno);
		free(buf);
		return;
	}
	in.reader = (pid_t)syscall(SYS_gettid);
	in.fd = fd;
	err = pthread_create(&th, NULL, interrupter_main, &in);
	if (err) {
		reply_err(err);
		install_alarm(false);
		free(buf);
		return;
	}
	n = read(fd, buf, (size_t)size);
	err = errno;
	in.done = true;
	pthread_join(th, NULL);
	install_alarm(false);
	if (n >= 0)
		print_read(buf, n);
	else
		reply_err(err);
	free(buf);
}

static void print_revents(short revents)
{
	if (revents == 0)
		printf("timeout\n");
	else if (revents == POLLIN || revents == (POLLIN | POLLRDNORM))
		printf("readable\n");
	else
		printf("revents 0x%X\n", (unsigned)revents);
}

static void do_poll(int argc, char **argv)
{
	struct pollfd p = { .events = POLLIN };
	int ms, r;

	if (argc != 2 || !parse_int(argv[1], &p.fd) || !parse_int(argv[2], &ms)) {
		printf("err usage\n");
		return;
	}
	r = poll(&p, 1, ms);
	if (r < 0)
		reply_err(errno);
	else
		print_revents(r == 0 ? 0 : p.revents);
}

static void do_select(int argc, char **argv)
{
	struct timeval tv;
	fd_set set;
	int fd, ms, r;

	if (argc != 2 || !parse_int(argv[1], &fd) || !parse_int(argv[2], &ms) ||
	    fd < 0 || fd >= FD_SETSIZE || ms < 0) {
		printf("err usage\n");
		return;
	}
	FD_ZERO(&set);
	FD_SET(fd, &set);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	r = select(fd + 1, &set, NULL, NULL, &tv);
	if (r < 0)
		reply_err(errno);
	else
		printf(r > 0 && FD_ISSET(fd, &set) ? "readable\n" : "timeout\n");
}

static void do_epoll(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int fd, ep;

	if (argc != 1 || !parse_int(argv[1], &fd)) {
		printf("err usage\n");
		return;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		reply_err(errno);
		return;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		reply_err(errno);
		close(ep);
		return;
	}
	printf("ok %d\n", ep);
}

static void do_epwait(int argc, char **argv)
{
	struct epoll_event ev;
	int ep, ms, r;

	if (argc != 2 || !parse_int(argv[1], &ep) || !parse_int(argv[2], &ms)) {
		printf("err usage\n");
		return;
	}
	do
		r = epoll_wait(ep, &ev, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		reply_err(errno);
	else if (r == 0)
		printf("timeout\n");
	else if (ev.events == EPOLLIN)
		printf("readable\n");
	else
		printf("revents 0x%X\n", (unsigned)ev.events);
}

static void do_write(int argc, char **argv)
{
	int fd, len;
	ssize_t n;
	void *buf;

	if (argc != 2 || !parse_int(argv[1], &fd) || !parse_int(argv[2], &len) ||
	    len < 0 || !(buf = calloc(1, len ? (size_t)len : 1))) {
		printf("err usage\n");
		return;
	}
	n = write(fd, buf, (size_t)len);
	if (n < 0)
		reply_err(errno);
	else
		printf("ok %zd\n", n);
	free(buf);
}

bool records_dispatch(const char *line, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "sub"))
		do_sub(line, argc, argv);
	else if (!strcmp(cmd, "subfill"))
		do_subfill(argc, argv);
	else if (!strcmp(cmd, "unsub"))
		do_unsub(argc, argv);
	else if (!strcmp(cmd, "read"))
		do_read(argc, argv);
	else if (!strcmp(cmd, "readnb"))
		do_readnb(argc, argv);
	else if (!strcmp(cmd, "readintr"))
		do_readintr(argc, argv);
	else if (!strcmp(cmd, "poll"))
		do_poll(argc, argv);
	else if (!strcmp(cmd, "select"))
		do_select(argc, argv);
	else if (!strcmp(cmd, "epoll"))
		do_epoll(argc, argv);
	else if (!strcmp(cmd, "epwait"))
		do_epwait(argc, argv);
	else if (!strcmp(cmd, "write"))
		do_write(argc, argv);
	else
		return false;
	return true;
}
