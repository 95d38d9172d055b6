/*
 * unit_test.c - exercise every kmonitor call and error case against a
 * running kmonitord (or any /dev/kmonitor implementation).
 *
 *   unit_test [DEVICE]
 *
 * DEVICE defaults to $KMONITOR_DEVICE, then /dev/kmonitor.  Prints
 * "PASS name" or "FAIL name: why" per case and ends with
 * "N passed, M failed"; exits 0 only when nothing failed.
 *
 * Targets are child processes we fork ourselves and drive over pipes, so
 * every event happens exactly when a case asks for it: there are no
 * sleeps, only bounded waits for things that must happen (notifications,
 * pipe answers) and fixed quiet periods for things that must not.
 *
 * Each case takes its own real-time signal(s) and waits on those alone,
 * so a late or stray notification from one case cannot satisfy another;
 * a final case reports anything left over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kmonitor.h>

#define EXPECT_MS	10000	/* generous: a loaded CI machine is slow */
#define QUIET_MS	500	/* how long "nothing more arrives" is watched */
#define WHY_LEN		256
#define ALL_EVENTS	0x7F

#define KMONITOR_IOW_UNKNOWN	_IOW(0xDE, 3, struct kmonitor_cmd)
#define KMONITOR_IO_NOARG	_IO(0xDE, 1)
#define KMONITOR_IOR_READ	_IOR(0xDE, 1, struct kmonitor_cmd)

/* Commands understood by a target process (one byte each). */
enum {
	T_EXIT = 'x',	/* end any grandchild, then _exit(0) */
	T_FORK = 'f',	/* fork a grandchild; answers its pid */
	T_THREAD = 't',	/* start a thread; the thread answers its tid */
	T_JOIN = 'j',	/* end and join that thread; answers 0 */
	T_EXEC = 'e',	/* exec --exec-child; the new image answers its pid */
};

struct ctx {
	int fd;
	const char *device;
	uid_t uid;
	int next_sig;
	int passed, failed;
};

/* A target process: cmd is our write end, res our read end. */
struct target {
	pid_t pid;
	int cmd, res;
};

typedef bool (*case_fn)(struct ctx *c, char *why);

/* ---- small helpers ---- */

static bool fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_LEN, fmt, ap);
	va_end(ap);
	return false;
}

static const char *event_name(int ev)
{
	switch (ev) {
	case KMONITOR_THREAD_CREATE:	return "THREAD_CREATE";
	case KMONITOR_THREAD_ABORT:	return "THREAD_ABORT";
	case KMONITOR_THREAD_EXIT:	return "THREAD_EXIT";
	case KMONITOR_PROCESS_FORK:	return "PROCESS_FORK";
	case KMONITOR_PROCESS_ABORT:	return "PROCESS_ABORT";
	case KMONITOR_PROCESS_EXEC:	return "PROCESS_EXEC";
	case KMONITOR_PROCESS_EXIT:	return "PROCESS_EXIT";
	default:			return "unknown event";
	}
}

static const char *err_name(int err)
{
	switch (err) {
	case 0:		return "success";
	case EINVAL:	return "EINVAL";
	case ESRCH:	return "ESRCH";
	case EFAULT:	return "EFAULT";
	case ENOTTY:	return "ENOTTY";
	case EPERM:	return "EPERM";
	default:	return strerror(err);
	}
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* A fresh notification signal per use, so cases cannot see each other's. */
static int take_sig(struct ctx *c)
{
	int sig = SIGRTMIN + c->next_sig++;

	if (sig > SIGRTMAX) {	/* only if cases outgrow the RT range */
		c->next_sig = 1;
		sig = SIGRTMIN;
	}
	return sig;
}

static void sig_set(sigset_t *set, int a, int b)
{
	sigemptyset(set);
	sigaddset(set, a);
	if (b > 0)
		sigaddset(set, b);
}

/* Issue one request; returns 0 or the errno it failed with. */
static int kreq(int fd, unsigned long req, pid_t pid, int type, int sig)
{
	struct kmonitor_cmd cmd = { .pid = pid, .type = type, .signal = sig };

	return ioctl(fd, req, &cmd) < 0 ? errno : 0;
}

static bool expect_rc(int got, int want, const char *what, char *why)
{
	if (got == want)
		return true;
	return fail(why, "%s returned %s, expected %s", what, err_name(got),
		    err_name(want));
}

static bool reg_ok(struct ctx *c, pid_t pid, int type, int sig, char *why)
{
	return expect_rc(kreq(c->fd, KMONITOR_IOW_REGISTER, pid, type, sig),
			 0, "REGISTER", why);
}

/* ---- waiting for notifications ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sigtimedwait for up to ms; returns the signal or -1 on timeout. */
static int wait_sig(const sigset_t *set, int ms, siginfo_t *si)
{
	long long deadline = now_ms() + ms, left;
	struct timespec ts;
	int sig;

	do {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sig = sigtimedwait(set, si, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig;
}

/* Wait for one notification and check every field of it. */
static bool expect_event(struct ctx *c, const sigset_t *set, int signo,
			 pid_t pid, int event, char *why)
{
	siginfo_t si;

	if (wait_sig(set, EXPECT_MS, &si) < 0)
		return fail(why, "no %s notification for %d within %d ms",
			    event_name(event), (int)pid, EXPECT_MS);
	if (si.si_int != event)
		return fail(why, "expected %s for %d, got si_int %#x (%s) for %d",
			    event_name(event), (int)pid, si.si_int,
			    event_name(si.si_int), (int)si.si_pid);
	if (si.si_signo != signo)
		return fail(why, "%s: si_signo %d, expected %d",
			    event_name(event), si.si_signo, signo);
	if (si.si_code != SI_QUEUE)
		return fail(why, "%s: si_code %d, expected SI_QUEUE (%d)",
			    event_name(event), si.si_code, SI_QUEUE);
	if (si.si_pid != pid)
		return fail(why, "%s: si_pid %d, expected %d",
			    event_name(event), (int)si.si_pid, (int)pid);
	if (si.si_uid != c->uid)
		return fail(why, "%s: si_uid %u, expected %u",
			    event_name(event), (unsigned)si.si_uid,
			    (unsigned)c->uid);
	return true;
}

static bool expect_quiet(const sigset_t *set, const char *after, char *why)
{
	siginfo_t si;

	if (wait_sig(set, QUIET_MS, &si) < 0)
		return true;
	return fail(why, "unexpected %s (si_int %#x, si_pid %d) %s",
		    event_name(si.si_int), si.si_int, (int)si.si_pid, after);
}

/* ---- target processes ---- */

/* Close fds lo..hi; the loop is for kernels without close_range(2). */
static void close_span(unsigned lo, unsigned hi)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return;
	for (long fd = lo; fd <= (long)hi && fd < max; fd++)
		close((int)fd);
}

/*
 * A target must hold no copy of our /dev/kmonitor descriptors: a copy
 * would keep the file open after we close it and hide a release.
 */
static void close_fds_except(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);

	close_span(3, lo - 1);
	close_span(lo + 1, hi - 1);
	close_span(hi + 1, ~0U);
}

static bool read_full(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)len;
}

static void write_pid(int fd, pid_t pid)
{
	if (write(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		_exit(125);	/* the test notices the missing answer */
}

struct thread_arg {
	int res;	/* where to announce our tid */
	int stop;	/* read end: a byte or EOF ends us */
};

static void *target_thread(void *p)
{
	struct thread_arg *a = p;
	char ch;

	write_pid(a->res, gettid_());
	read_full(a->stop, &ch, 1);
	return NULL;
}

/* Grandchild: waits until the target closes its pipe, then leaves. */
static pid_t fork_grandchild(int *keep)
{
	int p[2];
	pid_t pid;
	char ch;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		read_full(p[0], &ch, 1);
		_exit(0);
	}
	close(p[0]);
	*keep = p[1];
	return pid;
}

static _Noreturn void target_exec(int cmd, int res)
{
	char a[16], b[16];

	/* These two must survive exec; everything else stays close-on-exec. */
	fcntl(cmd, F_SETFD, 0);
	fcntl(res, F_SETFD, 0);
	snprintf(a, sizeof(a), "%d", cmd);
	snprintf(b, sizeof(b), "%d", res);
	execl("/proc/self/exe", "unit_test", "--exec-child", a, b,
	      (char *)NULL);
	write_pid(res, -1);
	_exit(127);
}

static _Noreturn void target_main(int cmd, int res)
{
	struct thread_arg ta = { res, -1 };
	pid_t grandchild = -1;
	int gpipe = -1, tstop = -1;
	pthread_t th;
	char op;

	close_fds_except(cmd, res);
	while (read_full(cmd, &op, 1)) {
		if (op == T_FORK) {
			grandchild = fork_grandchild(&gpipe);
			write_pid(res, grandchild);
		} else if (op == T_THREAD) {
			int p[2];

			if (pipe2(p, O_CLOEXEC) < 0)
				_exit(124);
			ta.stop = p[0];
			tstop = p[1];
			if (pthread_create(&th, NULL, target_thread, &ta))
				_exit(124);
		} else if (op == T_JOIN) {
			close(tstop);
			pthread_join(th, NULL);
			write_pid(res, 0);
		} else if (op == T_EXEC) {
			target_exec(cmd, res);
		} else {
			break;	/* T_EXIT */
		}
	}
	if (grandchild > 0) {
		close(gpipe);
		waitpid(grandchild, NULL, 0);
	}
	_exit(0);
}

/* What the target turns into after T_EXEC: announce, then wait for T_EXIT. */
static int exec_child_main(const char *cmd_s, const char *res_s)
{
	int cmd = atoi(cmd_s), res = atoi(res_s);
	char op;

	write_pid(res, getpid());
	read_full(cmd, &op, 1);
	return 0;
}

static bool spawn_target(struct target *t, char *why)
{
	int cmd[2], res[2];

	t->pid = -1;
	if (pipe2(cmd, O_CLOEXEC) < 0)
		return fail(why, "pipe: %s", strerror(errno));
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(cmd[0]);
		close(cmd[1]);
		return fail(why, "pipe: %s", strerror(errno));
	}
	fflush(stdout);
	t->pid = fork();
	if (t->pid == 0)
		target_main(cmd[0], res[1]);
	close(cmd[0]);
	close(res[1]);
	t->cmd = cmd[1];
	t->res = res[0];
	if (t->pid < 0) {
		close(t->cmd);
		close(t->res);
		return fail(why, "fork: %s", strerror(errno));
	}
	return true;
}

static bool target_send(struct target *t, char op, char *why)
{
	if (write(t->cmd, &op, 1) == 1)
		return true;
	return fail(why, "telling target %d '%c': %s", (int)t->pid, op,
		    strerror(errno));
}

/* Read one pid-sized answer from the target, waiting at most EXPECT_MS. */
static bool target_answer(struct target *t, pid_t *out, char *why)
{
	struct pollfd pfd = { .fd = t->res, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, EXPECT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0 || !read_full(t->res, out, sizeof(*out)))
		return fail(why, "target %d did not answer", (int)t->pid);
	if (*out < 0)
		return fail(why, "target %d could not carry out the command",
			    (int)t->pid);
	return true;
}

static bool target_ask(struct target *t, char op, pid_t *out, char *why)
{
	return target_send(t, op, why) && target_answer(t, out, why);
}

/* Block until the target has exited, leaving it an unreaped zombie. */
static bool target_await_zombie(struct target *t, char *why)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return fail(why, "waitid %d: %s", (int)t->pid,
				    strerror(errno));
	return true;
}

/*
 * Always called, pass or fail.  Deregistering first keeps a failed case's
 * leftover registration from producing notifications during later cases.
 */
static void target_cleanup(struct ctx *c, struct target *t)
{
	if (t->pid <= 0)
		return;
	kreq(c->fd, KMONITOR_IOW_DEREGISTER, t->pid, ALL_EVENTS, SIGRTMIN);
	close(t->cmd);
	close(t->res);
	kill(t->pid, SIGKILL);	/* harmless if it is already a zombie */
	while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
		;
	t->pid = -1;
}

/* ---- argument and error cases ---- */

/*
 * Stand-ins in the table below: SELF for getpid(); RT_SIG for SIGRTMIN,
 * which is not a constant expression.  PROCESS_EXEC on ourselves never
 * fires (we never exec), so a wrongly accepted request stays silent.
 */
#define SELF	1
#define RT_SIG	(-100)

struct error_case {
	const char *name;
	unsigned long req;
	pid_t pid;
	int type, sig;
	int want;
};

static const struct error_case error_cases[] = {
	{ "register pid 0 -> EINVAL", KMONITOR_IOW_REGISTER,
	  0, KMONITOR_PROCESS_EXIT, RT_SIG, EINVAL },
	{ "register pid -1 -> EINVAL", KMONITOR_IOW_REGISTER,
	  -1, KMONITOR_PROCESS_EXIT, RT_SIG, EINVAL },
	{ "register pid 0x7fffffff -> ESRCH", KMONITOR_IOW_REGISTER,
	  0x7fffffff, KMONITOR_PROCESS_EXIT, RT_SIG, ESRCH },
	{ "register type 0 -> EINVAL", KMONITOR_IOW_REGISTER,
	  SELF, 0, RT_SIG, EINVAL },
	{ "register type 0x80 -> EINVAL", KMONITOR_IOW_REGISTER,
	  SELF, 0x80, RT_SIG, EINVAL },
	{ "register type 0xC0 (valid+invalid bits) -> EINVAL",
	  KMONITOR_IOW_REGISTER, SELF, 0xC0, RT_SIG, EINVAL },
	{ "register signal -1 -> EINVAL", KMONITOR_IOW_REGISTER,
	  SELF, KMONITOR_PROCESS_EXEC, -1, EINVAL },
	{ "register signal 65 -> EINVAL", KMONITOR_IOW_REGISTER,
	  SELF, KMONITOR_PROCESS_EXEC, 65, EINVAL },
	{ "deregister without registration -> EINVAL",
	  KMONITOR_IOW_DEREGISTER, SELF, KMONITOR_PROCESS_EXIT, RT_SIG, EINVAL },
	{ "ioctl _IOW(0xDE, 3) -> EINVAL", KMONITOR_IOW_UNKNOWN,
	  SELF, KMONITOR_PROCESS_EXEC, RT_SIG, EINVAL },
	{ "ioctl _IO(0xDE, 1) -> EINVAL", KMONITOR_IO_NOARG,
	  SELF, KMONITOR_PROCESS_EXEC, RT_SIG, EINVAL },
	{ "ioctl _IOR(0xDE, 1) -> EINVAL", KMONITOR_IOR_READ,
	  SELF, KMONITOR_PROCESS_EXEC, RT_SIG, EINVAL },
};

static bool run_error_case(struct ctx *c, const struct error_case *e,
			   char *why)
{
	pid_t pid = e->pid == SELF ? getpid() : e->pid;
	int sig = e->sig == RT_SIG ? SIGRTMIN : e->sig;
	int got = kreq(c->fd, e->req, pid, e->type, sig);

	if (got == 0 && e->req == KMONITOR_IOW_REGISTER)
		kreq(c->fd, KMONITOR_IOW_DEREGISTER, pid, ALL_EVENTS, sig);
	return expect_rc(got, e->want, "ioctl", why);
}

static bool case_bad_pointer_register(struct ctx *c, char *why)
{
	int got = ioctl(c->fd, KMONITOR_IOW_REGISTER, (void *)8) < 0 ? errno : 0;

	return expect_rc(got, EFAULT, "REGISTER with argument (void *)8", why);
}

static bool case_bad_pointer_deregister(struct ctx *c, char *why)
{
	int got = ioctl(c->fd, KMONITOR_IOW_DEREGISTER, (void *)8) < 0 ?
		  errno : 0;

	return expect_rc(got, EFAULT, "DEREGISTER with argument (void *)8",
			 why);
}

/* A pid that was a process a moment ago but has been reaped. */
static bool case_reaped_pid(struct ctx *c, char *why)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fail(why, "fork: %s", strerror(errno));
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return expect_rc(kreq(c->fd, KMONITOR_IOW_REGISTER, pid,
			      KMONITOR_PROCESS_EXIT, SIGRTMIN),
			 ESRCH, "REGISTER on a reaped pid", why);
}

/* Signals 1 and 64 are the ends of the valid range. */
static bool case_signal_bounds(struct ctx *c, char *why)
{
	static const int sigs[] = { 1, 64 };

	for (size_t i = 0; i < 2; i++) {
		int got = kreq(c->fd, KMONITOR_IOW_REGISTER, getpid(),
			       KMONITOR_PROCESS_EXEC, sigs[i]);

		if (got)
			return fail(why, "REGISTER with signal %d returned %s",
				    sigs[i], err_name(got));
		got = kreq(c->fd, KMONITOR_IOW_DEREGISTER, getpid(),
			   ALL_EVENTS, sigs[i]);
		if (got)
			return fail(why, "DEREGISTER returned %s",
				    err_name(got));
	}
	return true;
}

/*
 * DEREGISTER clears only the given bits (clearing an unset bit is fine)
 * and drops the registration once no bit is left, after which a further
 * DEREGISTER finds nothing.
 */
static bool case_deregister_bits(struct ctx *c, char *why)
{
	pid_t me = getpid();
	int mask = KMONITOR_PROCESS_EXEC | KMONITOR_THREAD_ABORT;
	int r = KMONITOR_IOW_DEREGISTER;

	return reg_ok(c, me, mask, SIGRTMIN, why) &&
	       expect_rc(kreq(c->fd, r, me, KMONITOR_PROCESS_FORK, SIGRTMIN),
			 0, "DEREGISTER of an unset bit", why) &&
	       expect_rc(kreq(c->fd, r, me, KMONITOR_PROCESS_EXEC, SIGRTMIN),
			 0, "DEREGISTER of one of two bits", why) &&
	       expect_rc(kreq(c->fd, r, me, KMONITOR_THREAD_ABORT, SIGRTMIN),
			 0, "DEREGISTER of the last bit", why) &&
	       expect_rc(kreq(c->fd, r, me, KMONITOR_THREAD_ABORT, SIGRTMIN),
			 EINVAL, "DEREGISTER after the last bit was cleared",
			 why);
}

/* ---- event cases ---- */

static bool case_process_exit(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_EXIT, sig, why) &&
	     target_send(&t, T_EXIT, why) &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_EXIT, why);
	target_cleanup(c, &t);
	return ok;
}

static bool case_process_abort(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_ABORT | KMONITOR_PROCESS_EXIT,
		    sig, why);
	if (ok && kill(t.pid, SIGKILL) < 0)
		ok = fail(why, "kill: %s", strerror(errno));
	/* Same signal for both, so queue order shows the sending order. */
	ok = ok &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_ABORT, why) &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_EXIT, why);
	target_cleanup(c, &t);
	return ok;
}

static bool case_process_fork(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	pid_t grandchild;
	sigset_t set;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_FORK, sig, why) &&
	     target_ask(&t, T_FORK, &grandchild, why) &&
	     expect_event(c, &set, sig, grandchild, KMONITOR_PROCESS_FORK,
			  why);
	target_cleanup(c, &t);
	return ok;
}

static bool case_process_exec(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	pid_t after;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_EXEC, sig, why) &&
	     target_ask(&t, T_EXEC, &after, why) &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_EXEC, why);
	target_cleanup(c, &t);
	return ok;
}

static bool case_thread_create(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	pid_t tid;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_THREAD_CREATE, sig, why) &&
	     target_ask(&t, T_THREAD, &tid, why) &&
	     expect_event(c, &set, sig, tid, KMONITOR_THREAD_CREATE, why);
	target_cleanup(c, &t);
	return ok;
}

/*
 * As in the original driver, an exit is reported to whoever registered
 * on the exiting task itself, so THREAD_EXIT is registered on the tid.
 */
static bool case_thread_exit(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	pid_t tid, ack;
	sigset_t set;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = target_ask(&t, T_THREAD, &tid, why) &&
	     reg_ok(c, tid, KMONITOR_THREAD_EXIT, sig, why) &&
	     target_ask(&t, T_JOIN, &ack, why) &&
	     expect_event(c, &set, sig, tid, KMONITOR_THREAD_EXIT, why);
	kreq(c->fd, KMONITOR_IOW_DEREGISTER, tid, ALL_EVENTS, sig);
	target_cleanup(c, &t);
	return ok;
}

/* An exited but unreaped target is reported at once, and only once. */
static bool case_zombie(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = target_send(&t, T_EXIT, why) && target_await_zombie(&t, why) &&
	     reg_ok(c, t.pid, KMONITOR_PROCESS_EXIT, sig, why) &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_EXIT, why) &&
	     expect_quiet(&set, "after the zombie's PROCESS_EXIT", why);
	target_cleanup(c, &t);
	return ok;
}

/* A second REGISTER ORs in its bits and replaces the signal. */
static bool case_reregister(struct ctx *c, char *why)
{
	int first = take_sig(c), second = take_sig(c);
	struct target t;
	sigset_t set;
	pid_t after;
	bool ok;

	sig_set(&set, first, second);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_EXEC, first, why) &&
	     reg_ok(c, t.pid, KMONITOR_PROCESS_EXIT, second, why) &&
	     target_ask(&t, T_EXEC, &after, why) &&
	     expect_event(c, &set, second, t.pid, KMONITOR_PROCESS_EXEC,
			  why) &&
	     target_send(&t, T_EXIT, why) &&
	     expect_event(c, &set, second, t.pid, KMONITOR_PROCESS_EXIT, why);
	target_cleanup(c, &t);
	return ok;
}

/*
 * After DEREGISTER of EXEC, an exec then an exit must yield EXIT alone:
 * a wrongly kept EXEC bit would be queued first and show up instead.
 */
static bool case_deregister_silences(struct ctx *c, char *why)
{
	int sig = take_sig(c);
	struct target t;
	sigset_t set;
	pid_t after;
	bool ok;

	sig_set(&set, sig, 0);
	if (!spawn_target(&t, why))
		return false;
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT,
		    sig, why) &&
	     expect_rc(kreq(c->fd, KMONITOR_IOW_DEREGISTER, t.pid,
			    KMONITOR_PROCESS_EXEC, sig),
		       0, "DEREGISTER of EXEC", why) &&
	     target_ask(&t, T_EXEC, &after, why) &&
	     target_send(&t, T_EXIT, why) &&
	     expect_event(c, &set, sig, t.pid, KMONITOR_PROCESS_EXIT, why) &&
	     expect_quiet(&set, "after PROCESS_EXIT", why);
	target_cleanup(c, &t);
	return ok;
}

/*
 * Closing a file drops its registrations and only its own: the same
 * target is watched through a second file, which is closed before the
 * target exits; only the first file's signal may arrive.
 *
 * In kmonitord's FUSE mode the kernel sends the release of a file in the
 * background, so close() returns before the daemon has dropped anything.
 * The release is queued before close() returns and the daemon answers in
 * order, so any later ioctl on the device is a barrier: the DEREGISTER
 * below (of a pid with no registration, hence EINVAL) returns only after
 * the release has been handled. The 2004 driver, and CUSE mode, release
 * synchronously and need no barrier.
 */
static bool case_close_drops(struct ctx *c, char *why)
{
	int keep = take_sig(c), dropped = take_sig(c);
	struct target t;
	sigset_t set;
	int fd2;
	bool ok;

	sig_set(&set, keep, dropped);
	if (!spawn_target(&t, why))
		return false;
	/* Opened after the fork, so the target holds no copy of it. */
	fd2 = open(c->device, O_WRONLY | O_CLOEXEC);
	if (fd2 < 0) {
		target_cleanup(c, &t);
		return fail(why, "second open of %s: %s", c->device,
			    strerror(errno));
	}
	ok = reg_ok(c, t.pid, KMONITOR_PROCESS_EXIT, keep, why) &&
	     expect_rc(kreq(fd2, KMONITOR_IOW_REGISTER, t.pid,
			    KMONITOR_PROCESS_EXIT, dropped),
		       0, "REGISTER on the second file", why);
	if (close(fd2) < 0 && ok)
		ok = fail(why, "close: %s", strerror(errno));
	ok = ok && expect_rc(kreq(c->fd, KMONITOR_IOW_DEREGISTER, INT_MAX,
				  KMONITOR_PROCESS_EXIT, keep),
			     EINVAL, "barrier DEREGISTER after close", why) &&
	     target_send(&t, T_EXIT, why) &&
	     expect_event(c, &set, keep, t.pid, KMONITOR_PROCESS_EXIT, why) &&
	     expect_quiet(&set, "from a closed file", why);
	target_cleanup(c, &t);
	return ok;
}

/* Anything still pending belongs to no case: the daemon sent too much. */
static bool case_no_strays(struct ctx *c, char *why)
{
	sigset_t set;
	siginfo_t si;

	(void)c;
	sigemptyset(&set);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(&set, s);
	if (wait_sig(&set, 0, &si) < 0)
		return true;
	return fail(why, "left-over signal %d (si_int %#x, si_pid %d)",
		    si.si_signo, si.si_int, (int)si.si_pid);
}

/* ---- driver ---- */

static void report(struct ctx *c, const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS %s\n", name);
		c->passed++;
	} else {
		printf("FAIL %s: %s\n", name, why);
		c->failed++;
	}
}

static void run_case(struct ctx *c, const char *name, case_fn fn)
{
	char why[WHY_LEN] = "";

	report(c, name, fn(c, why), why);
}

static void run_all(struct ctx *c)
{
	static const struct { const char *name; case_fn fn; } cases[] = {
		{ "register on a reaped pid -> ESRCH", case_reaped_pid },
		{ "register signal 1 and 64 accepted", case_signal_bounds },
		{ "register bad pointer -> EFAULT", case_bad_pointer_register },
		{ "deregister bad pointer -> EFAULT",
		  case_bad_pointer_deregister },
		{ "deregister clears bits, then removes", case_deregister_bits },
		{ "PROCESS_EXIT", case_process_exit },
		{ "PROCESS_ABORT then PROCESS_EXIT on SIGKILL",
		  case_process_abort },
		{ "PROCESS_FORK reports the grandchild", case_process_fork },
		{ "PROCESS_EXEC", case_process_exec },
		{ "THREAD_CREATE reports the new tid", case_thread_create },
		{ "THREAD_EXIT of a non-leader thread", case_thread_exit },
		{ "PROCESS_EXIT of a zombie: at once, once", case_zombie },
		{ "re-register ORs mask and replaces signal", case_reregister },
		{ "deregistered bits are not notified",
		  case_deregister_silences },
		{ "close drops the file's registrations", case_close_drops },
		{ "no stray notifications", case_no_strays },
	};
	char why[WHY_LEN];

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		why[0] = '\0';
		report(c, error_cases[i].name,
		       run_error_case(c, &error_cases[i], why), why);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(c, cases[i].name, cases[i].fn);
}

static const char *device_path(int argc, char *argv[])
{
	const char *env = getenv("KMONITOR_DEVICE");

	if (argc > 1)
		return argv[1];
	return (env && *env) ? env : "/dev/kmonitor";
}

int main(int argc, char *argv[])
{
	struct ctx c = { .uid = getuid(), .next_sig = 1 };
	sigset_t all_rt;

	if (argc == 4 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main(argv[2], argv[3]);
	if (argc > 2) {
		fprintf(stderr, "usage: %s [DEVICE]\n", argv[0]);
		return 2;
	}
	/* Output may go to a pipe; keep lines in order with the targets'. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	c.device = device_path(argc, argv);

	/* Notifications must queue until a case waits for them. */
	sigemptyset(&all_rt);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(&all_rt, s);
	sigprocmask(SIG_BLOCK, &all_rt, NULL);

	c.fd = open(c.device, O_WRONLY | O_CLOEXEC);
	if (c.fd < 0) {
		printf("FAIL open %s: %s\n", c.device, strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	run_all(&c);
	close(c.fd);
	printf("%d passed, %d failed\n", c.passed, c.failed);
	return c.failed == 0 ? 0 : 1;
}
