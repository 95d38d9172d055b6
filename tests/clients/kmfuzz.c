/*
 * kmfuzz.c - random, mostly bad, ioctls from many processes at once.
 *
 *   kmfuzz DEVICE SEED WORKERS CALLS
 *
 * Forks WORKERS workers.  Each opens DEVICE once and makes CALLS random
 * ioctls (REGISTER, DEREGISTER and other request numbers; good and bad
 * pids, masks, signals and argument pointers), and checks every result
 * against the README's semantics table, keeping its own model of what it
 * has registered on its file.  Any other result is a mismatch, printed
 * with the call.  Worker W's random sequence depends only on SEED and W,
 * so a mismatch can be replayed.
 *
 * One more worker races close() against REGISTER: its main thread opens,
 * registers and closes a file over and over while a second thread issues
 * REGISTERs on whatever descriptor is current; those must answer 0 (the
 * file, or a newly opened one with the same number) or EBADF (closed),
 * and nothing may hang or crash.
 *
 * Workers send progress and final counts to us over one pipe (records of
 * fixed size, below PIPE_BUF, so they never interleave).  A worker silent
 * for PROGRESS_TIMEOUT_MS is reported as hung and killed.
 *
 * Prints the totals, calls per second, and "N passed, M failed" (N calls
 * that matched, M mismatches plus workers that died or hung); exits 0
 * only when nothing failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#include "common.h"

#define PROGRESS_EVERY		500	/* calls between progress records */
#define PROGRESS_TIMEOUT_MS	60000	/* silence that counts as a hang */
#define MAX_REPORTS		20	/* mismatches printed per worker */
#define ARG_SIZE		16384	/* > the largest _IOC_SIZE (16383) */
#define ALL_EVENTS		0x7F
#define BAD_PTR			((void *)8)

/* Results a call may give, as a bit set. */
enum {
	RES_0 = 1 << 0,
	RES_EINVAL = 1 << 1,
	RES_ESRCH = 1 << 2,
	RES_EFAULT = 1 << 3,
	RES_EBADF = 1 << 4,
};

/* Who a pid in a call is. */
enum pid_kind { P_SELF, P_HELPER, P_ZERO, P_NEG, P_INTMAX, P_FREE, P_KINDS };

static const char *const pid_kind_name[P_KINDS] = {
	"self", "helper", "zero", "negative", "INT_MAX", "free",
};

struct record {
	int worker;
	bool final;
	long calls, passed, mismatches;
	long ok, einval, esrch, efault, ebadf, other;
	long race_cycles, race_calls;	/* the close/REGISTER racer only */
	long race_ok, race_ebadf;	/* its second thread's results */
	long notifications, free_reused;
};

struct worker {
	int index;
	uint64_t rng;
	int report;		/* write end of the records pipe */
	pid_t self, helper, free_pid;
	bool free_usable;	/* false once another process took free_pid */
	int mask_self, mask_helper;	/* the model: what our file holds */
	struct record rec;
};

static unsigned char arg_buf[ARG_SIZE];	/* a readable argument, any size */

/* ---- helpers ---- */

static uint64_t next_rand(uint64_t *s)	/* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct worker *w, uint32_t n)	/* 0..n-1 */
{
	return (uint32_t)(next_rand(&w->rng) % n);
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return *s && !*end && !errno && *out >= min && *out <= max;
}

static const char *err_name(int err)
{
	switch (err) {
	case 0:		return "0";
	case EINVAL:	return "EINVAL";
	case ESRCH:	return "ESRCH";
	case EFAULT:	return "EFAULT";
	case EBADF:	return "EBADF";
	case ENOTTY:	return "ENOTTY";
	case EIO:	return "EIO";
	case ENOTCONN:	return "ENOTCONN";
	case EINTR:	return "EINTR";
	default:	return strerror(err);
	}
}

static void allowed_str(int allowed, char *buf, size_t size)
{
	static const struct { int bit; const char *name; } names[] = {
		{ RES_0, "0" }, { RES_EINVAL, "EINVAL" }, { RES_ESRCH, "ESRCH" },
		{ RES_EFAULT, "EFAULT" }, { RES_EBADF, "EBADF" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (allowed & names[i].bit)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
					      n ? "|" : "", names[i].name);
}

static int result_bit(int err)
{
	switch (err) {
	case 0:		return RES_0;
	case EINVAL:	return RES_EINVAL;
	case ESRCH:	return RES_ESRCH;
	case EFAULT:	return RES_EFAULT;
	case EBADF:	return RES_EBADF;
	default:	return 0;
	}
}

static void count_result(struct record *r, int err)
{
	switch (err) {
	case 0:		r->ok++; break;
	case EINVAL:	r->einval++; break;
	case ESRCH:	r->esrch++; break;
	case EFAULT:	r->efault++; break;
	case EBADF:	r->ebadf++; break;
	default:	r->other++; break;
	}
}

static void send_record(int fd, const struct record *r)
{
	ssize_t n;

	do
		n = write(fd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? errno : 0;
}

/*
 * The helper target: alive for the whole run, blocked on a pipe whose
 * only write end is the worker's (it keeps no other descriptor).
 */
static pid_t start_helper(int *ctl)
{
	return fork_held_child(ctl, 0);
}

/* A pid with no task: a child of ours, already reaped. */
static pid_t free_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		reap(pid, NULL);
	return pid;
}

/* ---- one random call ---- */

/*
 * The VFS answers some request numbers itself before the file's ioctl
 * (FIOCLEX, FIONREAD, FIBMAP, FICLONE, FS_IOC_GETFLAGS, FIFREEZE,
 * FS_IOC_GETFSUUID, ...); they are outside the device's table, so random
 * numbers avoid their types: 0x00, 0x15, 'T', 'X', 'f', 0x94.
 */
static bool vfs_type(unsigned type)
{
	return type == 0x00 || type == 0x15 || type == 'T' || type == 'X' ||
	       type == 'f' || type == 0x94;
}

static unsigned long other_request(struct worker *w)
{
	unsigned long req;

	do {
		switch (rnd(w, 4)) {
		case 0:		/* other 0xDE numbers, any direction */
			req = _IOC(rnd(w, 4), 0xDE, rnd(w, 256),
				   sizeof(struct kmonitor_cmd));
			break;
		case 1:		/* the right number with another size */
			req = _IOC(_IOC_WRITE, 0xDE, 1 + rnd(w, 2),
				   rnd(w, _IOC_SIZEMASK + 1));
			break;
		case 2: {	/* the right number, other directions */
			static const unsigned dirs[] = {
				_IOC_NONE, _IOC_READ, _IOC_READ | _IOC_WRITE,
			};
			unsigned dir = dirs[rnd(w, 3)];

			req = _IOC(dir, 0xDE, 1 + rnd(w, 2),
				   dir == _IOC_NONE ? 0 : sizeof(struct kmonitor_cmd));
			break;
		}
		default:	/* anything 32 bits can say */
			req = (uint32_t)next_rand(&w->rng);
			if (vfs_type(_IOC_TYPE(req)))
				continue;
			break;
		}
	} while (req == KMONITOR_IOW_REGISTER || req == KMONITOR_IOW_DEREGISTER ||
		 vfs_type(_IOC_TYPE(req)));
	return req;
}

static int random_type(struct worker *w)
{
	static const int bad[] = { 0x80, 0x100, -1 };
	uint32_t r = rnd(w, 10);

	if (r == 0)
		return 0;
	if (r <= 6)
		return 1 + (int)rnd(w, ALL_EVENTS);
	if (r <= 8)
		return bad[rnd(w, 3)];
	/* Random, with at least one bit outside the mask. */
	return (int)((uint32_t)next_rand(&w->rng) | (0x80u << rnd(w, 25)));
}

static pid_t pick_pid(struct worker *w, enum pid_kind *kind)
{
	static const enum pid_kind weights[] = {
		P_SELF, P_SELF, P_SELF, P_HELPER, P_HELPER, P_HELPER,
		P_ZERO, P_NEG, P_INTMAX, P_FREE, P_FREE,
	};

	do
		*kind = weights[rnd(w, sizeof(weights) / sizeof(weights[0]))];
	while (*kind == P_FREE && !w->free_usable);
	switch (*kind) {
	case P_SELF:	return w->self;
	case P_HELPER:	return w->helper;
	case P_ZERO:	return 0;
	case P_NEG:	return -1 - (pid_t)rnd(w, INT_MAX);
	case P_INTMAX:	return INT_MAX;
	default:	return w->free_pid;
	}
}

static int *model_mask(struct worker *w, enum pid_kind kind)
{
	if (kind == P_SELF)
		return &w->mask_self;
	if (kind == P_HELPER)
		return &w->mask_helper;
	return NULL;
}

static const char *req_name(unsigned long req)
{
	if (req == KMONITOR_IOW_REGISTER)
		return "REGISTER";
	if (req == KMONITOR_IOW_DEREGISTER)
		return "DEREGISTER";
	return "other";
}

static void mismatch(struct worker *w, long call, unsigned long req,
		     const struct kmonitor_cmd *cmd, const char *pid_name,
		     void *arg, int err, int allowed, const char *note)
{
	char want[64];

	w->rec.mismatches++;
	if (w->rec.mismatches > MAX_REPORTS)
		return;
	allowed_str(allowed, want, sizeof(want));
	printf("worker %d call %ld: %s %#lx pid %d (%s) type %#x signal %d ptr %s -> %s, expected %s%s\n",
	       w->index, call, req_name(req), req, (int)cmd->pid, pid_name,
	       (unsigned)cmd->type, cmd->signal,
	       arg == NULL ? "NULL" : arg == BAD_PTR ? "8" : "valid",
	       err_name(err), want, note);
	fflush(stdout);
}

/* Is the task still (or again) there?  Only for the "free" pid. */
static bool task_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void one_call(struct worker *w, int fd, long call)
{
	struct kmonitor_cmd *cmd = (struct kmonitor_cmd *)arg_buf;
	unsigned long req;
	enum pid_kind kind;
	int allowed, err, *mask;
	uint32_t r = rnd(w, 20);
	void *arg;

	if (r < 8)
		req = KMONITOR_IOW_REGISTER;
	else if (r < 13)
		req = KMONITOR_IOW_DEREGISTER;
	else
		req = other_request(w);
	cmd->pid = pick_pid(w, &kind);
	cmd->type = random_type(w);
	cmd->signal = -5 + (int)rnd(w, 76);	/* -5..70 */
	r = rnd(w, 20);
	arg = r == 0 ? NULL : r == 1 ? BAD_PTR : (void *)arg_buf;
	mask = model_mask(w, kind);

	/* What the table says, in the daemon's order of checks. */
	if (req == KMONITOR_IOW_REGISTER) {
		if (arg != arg_buf)
			allowed = RES_EFAULT;
		else if (cmd->pid <= 0 || cmd->type == 0 ||
			 (cmd->type & ~ALL_EVENTS) != 0 ||
			 cmd->signal < 0 || cmd->signal > 64)
			allowed = RES_EINVAL;
		else if (!mask)
			allowed = RES_ESRCH;
		else
			allowed = RES_0;
	} else if (req == KMONITOR_IOW_DEREGISTER) {
		if (arg != arg_buf)
			allowed = RES_EFAULT;
		else if (mask && *mask)
			allowed = RES_0;
		else
			allowed = RES_EINVAL;
	} else {
		/*
		 * FUSE's kernel side copies an _IOC_WRITE argument before
		 * the daemon sees the request, so a bad pointer may fail
		 * there first.
		 */
		allowed = RES_EINVAL;
		if (arg != arg_buf && (_IOC_DIR(req) & _IOC_WRITE))
			allowed |= RES_EFAULT;
	}

	struct kmonitor_cmd sent = *cmd;	/* before a READ could change it */

	err = do_ioctl(fd, req, arg);
	w->rec.calls++;
	count_result(&w->rec, err);

	if (kind == P_FREE && req == KMONITOR_IOW_REGISTER && err == 0 &&
	    allowed == RES_ESRCH && task_exists(sent.pid)) {
		/*
		 * Another process was given the pid we reaped (pids wrap
		 * when other tests fork a lot).  Not the daemon's fault; let
		 * the foreign task go at once, before it can send us a
		 * notification, and stop using that pid.
		 */
		struct kmonitor_cmd undo = { sent.pid, -1, SIGRTMIN };

		w->rec.free_reused++;
		w->free_usable = false;
		err = do_ioctl(fd, KMONITOR_IOW_DEREGISTER, &undo);
		if (err != 0)
			mismatch(w, call, KMONITOR_IOW_DEREGISTER, &undo, "reused",
				 &undo, err, RES_0, " (undoing a reused free pid)");
		w->rec.passed++;
		return;
	}
	if (result_bit(err) & allowed)
		w->rec.passed++;
	else
		mismatch(w, call, req, &sent, pid_kind_name[kind], arg, err,
			 allowed, "");

	/* The model follows what the daemon did, so one error does not cascade. */
	if (mask && err == 0 && req == KMONITOR_IOW_REGISTER)
		*mask |= sent.type;
	else if (mask && err == 0 && req == KMONITOR_IOW_DEREGISTER)
		*mask &= ~sent.type;
}

/* DEREGISTER what the model says is left: 0, then EINVAL (gone). */
static void deregister_rest(struct worker *w, int fd, long *call)
{
	enum pid_kind kinds[] = { P_SELF, P_HELPER };

	for (int i = 0; i < 2; i++) {
		int *mask = model_mask(w, kinds[i]);
		struct kmonitor_cmd cmd = {
			kinds[i] == P_SELF ? w->self : w->helper, ALL_EVENTS,
			SIGRTMIN };
		int want = *mask ? RES_0 : RES_EINVAL, err;

		for (int pass = 0; pass < 2; pass++, want = RES_EINVAL) {
			err = do_ioctl(fd, KMONITOR_IOW_DEREGISTER, &cmd);
			w->rec.calls++;
			count_result(&w->rec, err);
			if (result_bit(err) & want)
				w->rec.passed++;
			else
				mismatch(w, (*call)++, KMONITOR_IOW_DEREGISTER, &cmd,
					 pid_kind_name[kinds[i]], &cmd, err, want,
					 " (final clean-up)");
		}
		*mask = 0;
	}
}

/*
 * Notifications that came anyway.  Neither target forks, execs or exits
 * while registered, so any is a daemon bug, unless a reused free pid was
 * registered for a moment.
 */
static void drain(struct worker *w)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	while (sigtimedwait(&all, &si, &zero) > 0) {
		w->rec.notifications++;
		if (w->rec.notifications <= MAX_REPORTS)
			printf("worker %d: notification signal %d code %d pid %d int %#x\n",
			       w->index, si.si_signo, si.si_code, (int)si.si_pid,
			       si.si_value.sival_int);
	}
	if (w->rec.notifications && !w->rec.free_reused)
		w->rec.mismatches += w->rec.notifications;
}

/* Any later ioctl on another file returns after our release was handled. */
static void release_barrier(struct worker *w, const char *device)
{
	struct kmonitor_cmd cmd = { w->self, ALL_EVENTS, SIGRTMIN };
	int fd = open(device, O_RDWR | O_CLOEXEC), err;

	if (fd < 0) {
		printf("worker %d: open %s: %s\n", w->index, device, strerror(errno));
		w->rec.mismatches++;
		return;
	}
	err = do_ioctl(fd, KMONITOR_IOW_DEREGISTER, &cmd);
	w->rec.calls++;
	count_result(&w->rec, err);
	if (err == EINVAL)
		w->rec.passed++;
	else
		mismatch(w, -1, KMONITOR_IOW_DEREGISTER, &cmd, "self", &cmd,
			 err, RES_EINVAL, " (fresh file after close)");
	close(fd);
}

static int fuzz_worker(struct worker *w, const char *device, long calls)
{
	int fd, helper_ctl = -1;
	long call;

	w->self = getpid();
	w->helper = start_helper(&helper_ctl);
	w->free_pid = free_pid();
	w->free_usable = true;
	if (w->helper < 0 || w->free_pid < 0) {
		perror("fork");
		return 1;
	}
	/* Opened after the forks, so the children never hold it. */
	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "worker %d: open %s: %s\n", w->index, device,
			strerror(errno));
		close(helper_ctl);
		return 1;
	}
	for (call = 0; call < calls; call++) {
		one_call(w, fd, call);
		if ((call + 1) % PROGRESS_EVERY == 0)
			send_record(w->report, &w->rec);
	}
	deregister_rest(w, fd, &call);
	close(fd);
	release_barrier(w, device);
	drain(w);
	close(helper_ctl);	/* only now: nothing is registered on it */
	reap(w->helper, NULL);
	return 0;
}

/* ---- the close/REGISTER racer ---- */

struct race {
	struct worker *w;
	atomic_int fd;		/* the descriptor to hit; -1 before the first */
	atomic_bool stop;
	atomic_long calls;	/* read by the main thread for progress */
	long ok, ebadf, mismatches;
};

static void *race_thread(void *arg)
{
	struct race *rc = arg;
	struct kmonitor_cmd cmd = { rc->w->self, KMONITOR_PROCESS_EXIT,
				    SIGRTMIN + 5 };

	while (!atomic_load(&rc->stop)) {
		int fd = atomic_load(&rc->fd), err;

		if (fd < 0)
			continue;
		err = do_ioctl(fd, KMONITOR_IOW_REGISTER, &cmd);
		atomic_fetch_add(&rc->calls, 1);
		if (err == 0)
			rc->ok++;
		else if (err == EBADF)
			rc->ebadf++;
		else if (rc->mismatches++ < MAX_REPORTS) {
			printf("racer: REGISTER on fd %d -> %s, expected 0|EBADF\n",
			       fd, err_name(err));
			fflush(stdout);
		}
	}
	return NULL;
}

static int race_worker(struct worker *w, const char *device, long cycles)
{
	struct kmonitor_cmd cmd;
	struct race rc = { .w = w };
	pthread_t th;
	int err;

	w->self = getpid();
	cmd = (struct kmonitor_cmd){ w->self, KMONITOR_PROCESS_EXIT, SIGRTMIN + 4 };
	atomic_init(&rc.fd, -1);
	atomic_init(&rc.stop, false);
	atomic_init(&rc.calls, 0);
	err = pthread_create(&th, NULL, race_thread, &rc);
	if (err) {
		fprintf(stderr, "racer: pthread_create: %s\n", strerror(err));
		return 1;
	}
	for (long i = 0; i < cycles; i++) {
		int fd = open(device, O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			printf("racer: open %s: %s\n", device, strerror(errno));
			w->rec.mismatches++;
			break;
		}
		atomic_store(&rc.fd, fd);
		err = do_ioctl(fd, KMONITOR_IOW_REGISTER, &cmd);
		w->rec.calls++;
		count_result(&w->rec, err);
		if (err == 0) {
			w->rec.passed++;
		} else if (w->rec.mismatches++ < MAX_REPORTS) {
			printf("racer: REGISTER on its own open fd %d -> %s, expected 0\n",
			       fd, err_name(err));
			fflush(stdout);
		}
		/*
		 * The other thread may be inside an ioctl on fd right now.
		 * Once the number is closed it would only get EBADF from the
		 * kernel, so it is told to wait for the next file.
		 */
		close(fd);
		atomic_store(&rc.fd, -1);
		w->rec.race_cycles++;
		if ((i + 1) % PROGRESS_EVERY == 0) {
			w->rec.race_calls = atomic_load(&rc.calls);
			send_record(w->report, &w->rec);
		}
	}
	atomic_store(&rc.stop, true);
	pthread_join(th, NULL);
	w->rec.race_calls = atomic_load(&rc.calls);
	w->rec.race_ok = rc.ok;
	w->rec.race_ebadf = rc.ebadf;
	w->rec.passed += w->rec.race_calls - rc.mismatches;
	w->rec.mismatches += rc.mismatches;
	drain(w);
	return 0;
}

/* ---- the parent ---- */

static pid_t start_worker(struct worker *w, const char *device, long calls,
			  bool racer, int report_r)
{
	pid_t pid;
	sigset_t all;

	fflush(stdout);
	pid = fork();
	if (pid != 0)
		return pid;
	close(report_r);
	/*
	 * Every signal that can be blocked is, for the whole worker: a
	 * valid registration may name any of 1..64, and a notification
	 * must queue, not kill or stop us.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int rc = racer ? race_worker(w, device, calls)
		       : fuzz_worker(w, device, calls);

	w->rec.final = true;
	send_record(w->report, &w->rec);
	fflush(stdout);
	_exit(rc);
}

int main(int argc, char *argv[])
{
	long seed, workers, calls, total_calls = 0, passed = 0, failed = 0;
	struct record sum = { 0 }, *last;
	struct worker *ws;
	long long start, elapsed;
	pid_t *pids;
	bool *done;
	int p[2];
	long n_done = 0, n;

	if (argc != 5 || !parse_long(argv[2], LONG_MIN, LONG_MAX, &seed) ||
	    !parse_long(argv[3], 1, 1024, &workers) ||
	    !parse_long(argv[4], 0, LONG_MAX, &calls)) {
		fprintf(stderr, "usage: kmfuzz DEVICE SEED WORKERS CALLS\n");
		return 2;
	}
	n = workers + 1;	/* the racer is the last */
	ws = calloc((size_t)n, sizeof(*ws));
	pids = calloc((size_t)n, sizeof(*pids));
	done = calloc((size_t)n, sizeof(*done));
	last = calloc((size_t)n, sizeof(*last));
	if (!ws || !pids || !done || !last || pipe2(p, O_CLOEXEC) < 0) {
		perror("setup");
		return 1;
	}
	start = now_ms();
	for (long i = 0; i < n; i++) {
		ws[i].index = (int)i;
		ws[i].rec.worker = (int)i;
		ws[i].rng = (uint64_t)seed * 0x100000001B3ULL + (uint64_t)i;
		next_rand(&ws[i].rng);
		ws[i].report = p[1];
		pids[i] = start_worker(&ws[i], argv[1], calls, i == workers, p[0]);
		if (pids[i] < 0) {
			perror("fork worker");
			failed++;
			done[i] = true;
			n_done++;
		}
	}
	/* Only the workers hold the write end: EOF means all have gone. */
	close(p[1]);

	while (n_done < n) {
		struct pollfd pfd = { p[0], POLLIN, 0 };
		struct record rec;
		int r = poll(&pfd, 1, PROGRESS_TIMEOUT_MS);
		ssize_t got;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			for (long i = 0; i < n; i++) {
				if (done[i])
					continue;
				printf("worker %ld (pid %d) silent for %d ms after %ld calls: hung; killing it\n",
				       i, (int)pids[i], PROGRESS_TIMEOUT_MS, last[i].calls);
				kill(pids[i], SIGKILL);
				failed++;
			}
			break;
		}
		do
			got = read(p[0], &rec, sizeof(rec));
		while (got < 0 && errno == EINTR);
		if (got == 0)
			break;		/* every worker has gone */
		if (got != (ssize_t)sizeof(rec) || rec.worker < 0 || rec.worker >= n) {
			printf("bad record from a worker (%zd bytes)\n", got);
			failed++;
			break;
		}
		last[rec.worker] = rec;
		if (rec.final && !done[rec.worker]) {
			done[rec.worker] = true;
			n_done++;
		}
	}
	close(p[0]);
	elapsed = now_ms() - start;

	for (long i = 0; i < n; i++) {
		const struct record *r = &last[i];
		int status;

		if (pids[i] > 0 && reap(pids[i], &status) == 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			if (WIFSIGNALED(status))
				printf("worker %ld died of signal %d\n", i, WTERMSIG(status));
			else
				printf("worker %ld exited with %d\n", i, WEXITSTATUS(status));
			failed++;
		} else if (pids[i] > 0 && !done[i]) {
			printf("worker %ld ended without its final counts\n", i);
			failed++;
		}
		sum.calls += r->calls;
		sum.passed += r->passed;
		sum.mismatches += r->mismatches;
		sum.ok += r->ok;
		sum.einval += r->einval;
		sum.esrch += r->esrch;
		sum.efault += r->efault;
		sum.ebadf += r->ebadf;
		sum.other += r->other;
		sum.race_cycles += r->race_cycles;
		sum.race_calls += r->race_calls;
		sum.race_ok += r->race_ok;
		sum.race_ebadf += r->race_ebadf;
		sum.notifications += r->notifications;
		sum.free_reused += r->free_reused;
	}
	total_calls = sum.calls;	/* the racer's spinning thread is apart */
	passed = sum.passed;
	failed += sum.mismatches;

	printf("workers %ld + 1 racer, calls %ld (0: %ld, EINVAL: %ld, ESRCH: %ld, EFAULT: %ld, EBADF: %ld, other: %ld), mismatches %ld\n",
	       workers, sum.calls, sum.ok, sum.einval, sum.esrch, sum.efault,
	       sum.ebadf, sum.other, sum.mismatches);
	printf("racer: %ld open/REGISTER/close cycles, %ld concurrent REGISTERs (0: %ld, EBADF: %ld); notifications drained %ld; free pid reused %ld\n",
	       sum.race_cycles, sum.race_calls, sum.race_ok, sum.race_ebadf,
	       sum.notifications, sum.free_reused);
	printf("elapsed %.3f s, %.0f calls/s\n", (double)elapsed / 1000,
	       elapsed > 0 ? (double)total_calls * 1000 / (double)elapsed : 0.0);
	printf("%ld passed, %ld failed\n", passed, failed);
	free(ws);
	free(pids);
	free(done);
	free(last);
	return failed ? 1 : 0;
}
