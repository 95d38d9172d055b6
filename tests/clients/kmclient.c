/*
 * kmclient.c - scriptable kmonitor monitor for the integration tests.
 *
 * Reads one command per line on stdin and answers each with exactly one
 * line on stdout (flushed at once), so a test can drive it step by step:
 *
 *   open PATH                  -> ok FD            (O_RDWR, O_WRONLY on EACCES)
 *   close FD                   -> ok
 *   reg FD PID TYPE SIG        -> ok               (KMONITOR_IOW_REGISTER)
 *   dereg FD PID TYPE SIG      -> ok               (KMONITOR_IOW_DEREGISTER)
 *   ioctl FD CMD PID TYPE SIG  -> ok               (any request, valid struct)
 *   ioctlptr FD CMD ADDR       -> ok               (raw pointer argument)
 *   threg FD PID TYPE SIG      -> ok TID / err NAME TID  (REGISTER from a
 *                                 new thread, joined before answering)
 *   wait MS                    -> sig SIGNO CODE PID UID INT / timeout
 *   pid                        -> ok PID
 *   setuid UID                 -> ok               setresuid(UID, UID, UID) for the
 *                                 whole process: root gives itself up, open
 *                                 files stay open
 *   forkhold                   -> ok CHILDPID      a child that inherits every
 *                                 open file and holds it until killed (so
 *                                 the files outlive this monitor; kill it)
 *   quit                       -> ok, then exit 0 (EOF exits 0 too)
 *
 * Records and subscriptions (REGISTER with SIG 0 asks for records: "reg FD
 * PID TYPE 0"):
 *
 *   sub FD SCOPE TYPE PID SIG FLAGS [PATTERN]
 *                              -> ok ID            (KMONITOR_IOWR_SUBSCRIBE;
 *                                 PATTERN is the rest of the line after one
 *                                 blank, blanks included; absent: empty)
 *   subfill FD SCOPE TYPE PID SIG FLAGS BYTE
 *                              -> ok ID            all 232 pattern bytes are
 *                                 BYTE: a pattern with no NUL
 *   unsub FD ID                -> ok               (KMONITOR_IOW_UNSUBSCRIBE)
 *   read FD SIZE MS            -> ok N, then N record lines / timeout
 *                                 blocking read(2) into SIZE bytes; MS > 0
 *                                 arms a timer whose SIGALRM ends the read
 *                                 ("timeout"); MS 0 waits for ever
 *   readnb FD SIZE             -> ok N, then N record lines   (O_NONBLOCK for
 *                                 this read only; nothing queued: err EAGAIN)
 *   readintr FD SIZE RESTART   -> err EINTR (or ok N + records if one came)
 *                                 a blocking read that another thread sends
 *                                 SIGALRM once /proc shows the reader asleep
 *                                 in read(FD); RESTART 1 installs the handler
 *                                 with SA_RESTART, 0 without
 *   poll FD MS                 -> readable / timeout / revents 0xHEX
 *   select FD MS               -> readable / timeout
 *   epoll FD                   -> ok EPFD          an epoll instance watching
 *                                 FD for EPOLLIN | EPOLLET
 *   epwait EPFD MS             -> readable / timeout / revents 0xHEX
 *   write FD N                 -> ok WRITTEN       write(2) of N zero bytes
 *
 * A record line (every field of struct kmonitor_event):
 *
 *   rec TYPE SEQ PID TGID PPID UID STATUS WATCH SIZE RESERVED TIME_NS COMM
 *
 * TYPE is the ABI's name (KMONITOR_PROCESS_EXIT, KMONITOR_EVENT_LOST...) or
 * 0xHEX for a bit it does not name; COMM is last, up to its NUL (all 16
 * bytes without one), with blanks, '\\' and unprintable bytes written \xHH
 * (an empty name leaves the line ending in a blank).  A read whose byte
 * count is not a multiple of 64 answers "err partial BYTES" and no records.
 *
 * Failures answer "err NAME" (errno symbol) or "err NUMBER"; a malformed
 * or unknown command answers "err usage".  Numbers are strtol base 0.
 *
 * SIGRTMIN..SIGRTMAX and SIGUSR1/2 are blocked for the whole process from
 * the start, so notifications stay queued until "wait" collects them.
 * SIGALRM is kept for ending reads (a handler that only notes the signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#include "common.h"
#include "kmrecords.h"

/* Enough for "sub" with a pattern of many words. */
#define MAX_ARGS 128

static void reply_rc(int rc)
{
	if (rc < 0)
		reply_err(errno);
	else
		printf("ok\n");
}

bool parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoll(s, &end, 0);
	return !errno && !*end;
}

/*
 * An int-sized field.  Values up to UINT_MAX are accepted and wrap, so a
 * test can write a mask such as 0x80000000 in hex.
 */
bool parse_int(const char *s, int *out)
{
	long long v;

	if (!parse_ll(s, &v) || v < INT_MIN || v > (long long)UINT_MAX)
		return false;
	*out = (int)(uint32_t)v;
	return true;
}

/* Ioctl requests and raw addresses: any 64-bit pattern, hex or decimal. */
static bool parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && !*end;
}

static bool parse_cmd(char **argv, struct kmonitor_cmd *cmd)
{
	int pid;

	if (!parse_int(argv[0], &pid) || !parse_int(argv[1], &cmd->type) ||
	    !parse_int(argv[2], &cmd->signal))
		return false;
	cmd->pid = pid;
	return true;
}

static void do_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	/* Legacy monitors open write-only; a device may only allow that. */
	if (fd < 0 && errno == EACCES)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		reply_err(errno);
	else
		printf("ok %d\n", fd);
}

static void do_close(int argc, char **argv)
{
	int fd;

	if (argc != 1 || !parse_int(argv[0], &fd)) {
		printf("err usage\n");
		return;
	}
	reply_rc(close(fd));
}

/* reg / dereg / ioctl: a request with a well-formed kmonitor_cmd. */
static void do_request(int argc, char **argv, bool has_req,
		       unsigned long req)
{
	struct kmonitor_cmd cmd;
	int fd, first = has_req ? 2 : 1;

	if (argc != 4 + (has_req ? 1 : 0) || !parse_int(argv[0], &fd) ||
	    (has_req && !parse_ulong(argv[1], &req)) ||
	    !parse_cmd(argv + first, &cmd)) {
		printf("err usage\n");
		return;
	}
	reply_rc(ioctl(fd, req, &cmd));
}

static void do_ioctlptr(int argc, char **argv)
{
	unsigned long req, addr;
	int fd;

	if (argc != 3 || !parse_int(argv[0], &fd) ||
	    !parse_ulong(argv[1], &req) || !parse_ulong(argv[2], &addr)) {
		printf("err usage\n");
		return;
	}
	reply_rc(ioctl(fd, req, (void *)(uintptr_t)addr));
}

struct threg_job {
	int fd;
	struct kmonitor_cmd cmd;
	pid_t tid;
	int rc, err;
};

static void *threg_thread(void *arg)
{
	struct threg_job *job = arg;

	job->tid = (pid_t)syscall(SYS_gettid);
	job->rc = ioctl(job->fd, KMONITOR_IOW_REGISTER, &job->cmd);
	job->err = errno;
	return NULL;
}

/*
 * REGISTER issued by a thread other than the main one, to check that the
 * daemon ties registrations to the open file, not to the calling task.
 */
static void do_threg(int argc, char **argv)
{
	struct threg_job job = { 0 };
	pthread_t th;
	int err;

	if (argc != 4 || !parse_int(argv[0], &job.fd) ||
	    !parse_cmd(argv + 1, &job.cmd)) {
		printf("err usage\n");
		return;
	}
	err = pthread_create(&th, NULL, threg_thread, &job);
	if (err) {
		reply_err(err);
		return;
	}
	pthread_join(th, NULL);
	if (job.rc == 0) {
		printf("ok %d\n", (int)job.tid);
	} else {
		const char *name = errno_name(job.err);

		if (name)
			printf("err %s %d\n", name, (int)job.tid);
		else
			printf("err %d %d\n", job.err, (int)job.tid);
	}
}

static void notification_set(sigset_t *set)
{
	sigemptyset(set);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(set, s);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

static void do_wait(int argc, char **argv)
{
	long long ms;
	siginfo_t si;
	sigset_t set;
	int sig;

	if (argc != 1 || !parse_ll(argv[0], &ms) || ms < 0) {
		printf("err usage\n");
		return;
	}
	notification_set(&set);
	sig = wait_sig(&set, ms, &si);
	if (sig < 0 && errno == EAGAIN)
		printf("timeout\n");
	else if (sig < 0)
		reply_err(errno);
	else
		printf("sig %d %d %d %u %d\n", si.si_signo, si.si_code,
		       (int)si.si_pid, (unsigned)si.si_uid,
		       si.si_value.sival_int);
}

/* Split on blanks; returns the word count, or -1 if there are too many. */
static int split(char *line, char **argv)
{
	char *save, *tok;
	int argc = 0;

	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == MAX_ARGS)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}

/* "open" takes the rest of the line so paths may contain blanks. */
static bool try_open(char *line)
{
	size_t n;

	line += strspn(line, " \t");
	if (strncmp(line, "open", 4) != 0 || (line[4] != ' ' && line[4] != '\t'))
		return false;
	line += 4;
	line += strspn(line, " \t");
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!*line)
		printf("err usage\n");
	else
		do_open(line);
	return true;
}

/*
 * A child that keeps copies of all our descriptors, so the device files
 * stay open after this process dies. It only leaves when killed.
 */
static void do_forkhold(void)
{
	pid_t child = fork();

	if (child < 0) {
		reply_err(errno);
		return;
	}
	if (child == 0) {
		/* Keep the device files, not the test's pipes: whoever reads
		 * our stdout must see its end when we die. */
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		for (;;)
			pause();
	}
	printf("ok %d\n", (int)child);
}

static void do_setuid(const char *arg)
{
	uid_t uid = (uid_t)strtol(arg, NULL, 0);

	/* glibc applies it to every thread of the process, as POSIX asks. */
	if (setresuid(uid, uid, uid) < 0)
		reply_err(errno);
	else
		printf("ok\n");
}

/* Returns false when the command asks us to stop. */
static bool dispatch(char *line)
{
	char *argv[MAX_ARGS], *whole;
	int argc;

	if (try_open(line))
		return true;
	whole = strdup(line);	/* split() cuts the line; "sub" needs it whole */
	if (!whole) {
		reply_err(ENOMEM);
		return true;
	}
	argc = split(line, argv);
	if (argc > 0 && records_dispatch(whole, argc - 1, argv)) {
		free(whole);
		return true;
	}
	free(whole);
	if (argc <= 0) {
		printf("err usage\n");
		return true;
	}
	argc--;
	if (!strcmp(argv[0], "close"))
		do_close(argc, argv + 1);
	else if (!strcmp(argv[0], "reg"))
		do_request(argc, argv + 1, false, KMONITOR_IOW_REGISTER);
	else if (!strcmp(argv[0], "dereg"))
		do_request(argc, argv + 1, false, KMONITOR_IOW_DEREGISTER);
	else if (!strcmp(argv[0], "ioctl"))
		do_request(argc, argv + 1, true, 0);
	else if (!strcmp(argv[0], "ioctlptr"))
		do_ioctlptr(argc, argv + 1);
	else if (!strcmp(argv[0], "threg"))
		do_threg(argc, argv + 1);
	else if (!strcmp(argv[0], "wait"))
		do_wait(argc, argv + 1);
	else if (!strcmp(argv[0], "setuid") && argc == 1)
		do_setuid(argv[1]);
	else if (!strcmp(argv[0], "pid") && argc == 0)
		printf("ok %d\n", (int)getpid());
	else if (!strcmp(argv[0], "forkhold") && argc == 0)
		do_forkhold();
	else if (!strcmp(argv[0], "quit") && argc == 0) {
		printf("ok\n");
		return false;
	} else
		printf("err usage\n");
	return true;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	sigset_t set;

	/* Before any thread exists, so every thread inherits the mask. */
	notification_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigprocmask");
		return 1;
	}
	if (records_init() < 0) {
		perror("sigaction SIGALRM");
		return 1;
	}
	while (getline(&line, &cap, stdin) >= 0) {
		bool go_on = dispatch(line);

		fflush(stdout);
		if (!go_on)
			break;
	}
	free(line);
	return 0;
}
