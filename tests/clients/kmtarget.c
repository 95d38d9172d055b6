/*
 * kmtarget.c - scriptable target process for the kmonitor integration tests.
 *
 * Reads one command per line on stdin and answers each with exactly one
 * line on stdout (flushed at once), so a test can make the events it wants
 * a monitor to see happen, one at a time:
 *
 *   pid                   -> ok PID UID        (UID = real uid)
 *   fork                  -> ok CHILDPID       child blocks until exitchild
 *   exitchild CHILDPID N  -> ok                child _exit(N)s; answered once
 *                                              it is a zombie; not reaped
 *   reap CHILDPID         -> ok STATUS         raw waitpid status
 *   forkexit N            -> ok CHILDPID       child _exit(N)s at once, reaped
 *   thread                -> ok TID            thread blocks until endthread
 *   endthread TID         -> ok                thread returns and is joined
 *   exec                  -> ok PID            printed by the new image
 *                                              (/proc/self/exe --after-exec),
 *                                              which goes on serving commands
 *   exit N                -> (none)            exit(N)
 *   kill SIG              -> (none if fatal)   kill(getpid(), SIG), else ok
 *   leaderexit            -> ok TID            see below
 *   endall                -> ok                end and join every thread,
 *                                              then the process exits 0
 *   quit                  -> ok                exit 0 (EOF exits 0 too)
 *
 * Bursts, names and statuses (for records and subscriptions):
 *
 *   tree N M [PROG [ARG..]] -> ok C:G,G C:G,G ...  N children, each forking M
 *                              grandchildren that exec PROG (default
 *                              /bin/true; stdio on /dev/null); each
 *                              child _exit(0)s as soon as it has forked them,
 *                              so the grandchildren are re-parented to us (a
 *                              child subreaper from then on).  Answered once
 *                              every one of them has exited; C is a child's
 *                              pid, G its grandchildren's (none: "C:")
 *   spawn N PROG [ARG..]   -> ok PID PID ...    N children forked at once that
 *                              exec PROG (stdio on /dev/null); answered once all
 *                              have exited
 *   reapall                -> ok N              reaps the N processes tree and
 *                              spawn left as zombies (see await_zombies)
 *   spawnhold PROG [ARG..] -> ok PID            one child that execs PROG,
 *                              left running (SIGKILLed when we exit)
 *   killchild PID SIG      -> ok STATUS         kill(PID, SIG), then reap it:
 *                              the raw wait status
 *   forkkill SIG           -> ok PID STATUS     a child that kills itself with
 *                              SIG at once; reaped
 *   rename NAME            -> ok                prctl(PR_SET_NAME, NAME)
 *   renameproc NAME        -> ok                NAME written to /proc/self/comm
 *                              (exit N and kill SIG end us with a status)
 *
 * Errors answer "err NAME" (errno symbol or number); malformed or unknown
 * commands answer "err usage".  Numbers are strtol base 0.
 *
 * leaderexit: a new thread takes over this command loop and the main
 * thread calls pthread_exit.  The new thread answers "ok TID" (its own tid)
 * only once the leader is a zombie task, so the test then sees a live
 * process whose thread-group leader has exited; "endall" (or "exit N")
 * ends it later.
 *
 * stdin is read a byte at a time, never buffered ahead, so that "exec"
 * loses no command the test has already written for the new image.
 * Children and threads are controlled by private pipes (close-on-exec):
 * after "exec" the new image starts with none, and the old children see
 * EOF on their pipe and _exit(0) instead of lingering.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define LINE_MAX_LEN 256
#define MAX_ARGS 16

/* A child made by "fork": ctl is the write end of its control pipe. */
struct child {
	pid_t pid;
	int ctl;	/* -1 once the child has been told to exit */
};

/* A thread made by "thread"; it blocks reading ctl[0]. */
struct worker {
	pthread_t th;
	pid_t tid;
	int ctl[2];
	sem_t ready;	/* posted once tid is set */
};

struct target {
	struct child *children;
	size_t nchildren, cap_children;
	struct worker **workers;
	size_t nworkers, cap_workers;
	pthread_t leader;
	bool leader_gone;
	char exe[PATH_MAX];	/* our binary, resolved at start ("" if not) */
	pid_t *zombies;		/* exited, left unreaped by tree and spawn */
	size_t nzombies, cap_zombies;
	pid_t *held;		/* left running by spawnhold; killed when we end */
	size_t nheld, cap_held;
};

/* What the command loop asks of its caller. */
enum loop_end { LOOP_EXIT, LOOP_LEADEREXIT };

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static bool parse_int(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/*
 * One line from fd 0, a byte at a time (see the header comment for why).
 * Returns false at EOF or on a read error.  Over-long lines are cut.
 */
static bool read_line(char *buf, size_t size)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[n] = '\0';
			return n > 0;	/* a last line without '\n' still counts */
		}
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

/* ---- children ---- */

static struct child *find_child(struct target *t, pid_t pid)
{
	for (size_t i = 0; i < t->nchildren; i++)
		if (t->children[i].pid == pid)
			return &t->children[i];
	return NULL;
}

static bool add_child(struct target *t, pid_t pid, int ctl)
{
	if (t->nchildren == t->cap_children) {
		size_t cap = t->cap_children ? t->cap_children * 2 : 8;
		struct child *c = realloc(t->children, cap * sizeof(*c));

		if (!c)
			return false;
		t->children = c;
		t->cap_children = cap;
	}
	t->children[t->nchildren++] = (struct child){ pid, ctl };
	return true;
}

static void drop_child(struct target *t, struct child *c)
{
	if (c->ctl >= 0)
		close(c->ctl);
	*c = t->children[--t->nchildren];
}

static _Noreturn void child_main(int ctl)
{
	unsigned char code;

	close_fds_except(ctl);
	if (read_full(ctl, &code, 1) != 1)
		_exit(0);	/* parent gone or exec'd */
	_exit(code);
}

static void cmd_fork(struct target *t)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		reply_err(errno);
		return;
	}
	fflush(stdout);	/* nothing buffered may be written twice */
	pid = fork();
	if (pid == 0)
		child_main(p[0]);
	close(p[0]);
	if (pid < 0) {
		reply_err(errno);
		close(p[1]);
		return;
	}
	if (!add_child(t, pid, p[1])) {
		reply_err(ENOMEM);
		close(p[1]);	/* child sees EOF and exits */
		return;
	}
	printf("ok %d\n", (int)pid);
}

static void cmd_exitchild(struct target *t, int argc, char **argv)
{
	struct child *c;
	unsigned char code;
	siginfo_t si;
	int pid, n;

	if (argc != 2 || !parse_int(argv[0], &pid) || !parse_int(argv[1], &n)) {
		printf("err usage\n");
		return;
	}
	c = find_child(t, pid);
	if (!c || c->ctl < 0) {
		reply_err(ESRCH);
		return;
	}
	code = (unsigned char)n;
	if (write(c->ctl, &code, 1) != 1) {
		reply_err(errno);
		return;
	}
	close(c->ctl);
	c->ctl = -1;
	/*
	 * Answer only once the child is a zombie (WNOWAIT leaves it
	 * unreaped), so the test knows which state it is registering on.
	 */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) {
		if (errno != EINTR) {
			reply_err(errno);
			return;
		}
	}
	printf("ok\n");
}

static void cmd_reap(struct target *t, int argc, char **argv)
{
	struct child *c;
	int pid, status;
	pid_t r;

	if (argc != 1 || !parse_int(argv[0], &pid)) {
		printf("err usage\n");
		return;
	}
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		reply_err(errno);
		return;
	}
	c = find_child(t, pid);
	if (c)
		drop_child(t, c);
	printf("ok %d\n", status);
}

static void cmd_forkexit(int argc, char **argv)
{
	int code, status;
	pid_t pid, r;

	if (argc != 1 || !parse_int(argv[0], &code)) {
		printf("err usage\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(code);
	if (pid < 0) {
		reply_err(errno);
		return;
	}
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	printf("ok %d\n", (int)pid);
}

/* ---- bursts: trees of short-lived processes ---- */

/*
 * In a new child: no descriptor of ours from 3 up, and /dev/null for stdin,
 * stdout and stderr (a program left running must not hold the test's pipes
 * open: whoever reads them would wait for their end as long as it runs);
 * then PROG, or _exit(127).
 */
static _Noreturn void exec_program(char **argv)
{
	int null;

	close_range(3, ~0U, 0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	execv(argv[0], argv);
	_exit(127);
}

/*
 * Waits until each of pids has exited, leaving it a zombie (WNOWAIT) on
 * t's list for "reapall": a zombie keeps its /proc entry, so the daemon can
 * still read its name when it handles the EXEC (a process reaped before
 * that is the one window the issue documents, and not what these tests
 * measure).  The first failure is kept in *err.
 */
static void await_zombies(struct target *t, const pid_t *pids, size_t n, int *err)
{
	siginfo_t si;

	for (size_t i = 0; i < n; i++) {
		int r;

		do
			r = waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			if (!*err)
				*err = errno;
			continue;
		}
		if (t->nzombies == t->cap_zombies) {
			size_t cap = t->cap_zombies ? t->cap_zombies * 2 : 64;
			pid_t *z = realloc(t->zombies, cap * sizeof(*z));

			if (!z) {
				reap(pids[i], NULL);	/* cannot keep it: do not leak it */
				if (!*err)
					*err = ENOMEM;
				continue;
			}
			t->zombies = z;
			t->cap_zombies = cap;
		}
		t->zombies[t->nzombies++] = pids[i];
	}
}

static void cmd_reapall(struct target *t)
{
	size_t n = t->nzombies;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		int e = reap(t->zombies[i], NULL);

		if (e && !err)
			err = e;
	}
	t->nzombies = 0;
	if (err)
		reply_err(err);
	else
		printf("ok %zu\n", n);
}

/*
 * A child of "tree": forks m grandchildren that exec argv, writes their
 * pids to report, and exits at once (without reaping them).
 */
static _Noreturn void tree_child(int report, int m, char **argv)
{
	close_fds_except(report);
	for (int j = 0; j < m; j++) {
		pid_t g = fork();

		if (g == 0) {
			close(report);
			exec_program(argv);
		}
		if (g < 0)
			_exit(1);
		if (write(report, &g, sizeof(g)) != (ssize_t)sizeof(g))
			_exit(1);
	}
	_exit(0);
}

static void cmd_tree(struct target *t, int argc, char **argv)
{
	static char *default_prog[] = { "/bin/true", NULL };
	char **prog = argc > 2 ? argv + 2 : default_prog;
	int n, m, err = 0;
	pid_t *children, *grand;
	size_t ngrand = 0;

	if (argc < 2 || !parse_int(argv[0], &n) || !parse_int(argv[1], &m) ||
	    n < 0 || m < 0) {
		printf("err usage\n");
		return;
	}
	argv[argc] = NULL;	/* dispatch leaves a slot after the last word */
	/* Orphaned grandchildren come to us, so we can reap every one. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		reply_err(errno);
		return;
	}
	children = calloc((size_t)n + 1, sizeof(*children));
	grand = calloc((size_t)n * (size_t)m + 1, sizeof(*grand));
	if (!children || !grand) {
		free(children);
		free(grand);
		reply_err(ENOMEM);
		return;
	}
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			err = errno;
			n = i;
			break;
		}
		children[i] = fork();
		if (children[i] == 0)
			tree_child(p[1], m, prog);
		close(p[1]);
		if (children[i] < 0) {
			err = errno;
			close(p[0]);
			n = i;
			break;
		}
		/* Read at once: the pipe's end closes when the child exits. */
		for (int j = 0; j < m; j++) {
			pid_t g;

			if (read_full(p[0], &g, sizeof(g)) != (ssize_t)sizeof(g))
				break;
			grand[ngrand++] = g;
		}
		close(p[0]);
	}
	/* Children first: once one has exited, its children are ours. */
	await_zombies(t, children, (size_t)n, &err);
	await_zombies(t, grand, ngrand, &err);
	if (err) {
		reply_err(err);
	} else if (ngrand != (size_t)n * (size_t)m) {
		reply_err(ECHILD);	/* a child could not fork them all */
	} else {
		printf("ok");
		for (int i = 0; i < n; i++) {
			printf(" %d:", (int)children[i]);
			for (int j = 0; j < m; j++)
				printf(j ? ",%d" : "%d", (int)grand[i * m + j]);
		}
		printf("\n");
	}
	free(children);
	free(grand);
}

static void cmd_spawn(struct target *t, int argc, char **argv)
{
	int n, err = 0;
	pid_t *pids;

	if (argc < 2 || !parse_int(argv[0], &n) || n < 0) {
		printf("err usage\n");
		return;
	}
	argv[argc] = NULL;
	pids = calloc((size_t)n + 1, sizeof(*pids));
	if (!pids) {
		reply_err(ENOMEM);
		return;
	}
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			exec_program(argv + 1);
		if (pids[i] < 0) {
			err = errno;
			n = i;
			break;
		}
	}
	await_zombies(t, pids, (size_t)n, &err);
	if (err) {
		reply_err(err);
	} else {
		printf("ok");
		for (int i = 0; i < n; i++)
			printf(" %d", (int)pids[i]);
		printf("\n");
	}
	free(pids);
}

static void cmd_spawnhold(struct target *t, int argc, char **argv)
{
	pid_t pid;

	if (argc < 1) {
		printf("err usage\n");
		return;
	}
	if (t->nheld == t->cap_held) {
		size_t cap = t->cap_held ? t->cap_held * 2 : 8;
		pid_t *h = realloc(t->held, cap * sizeof(*h));

		if (!h) {
			reply_err(ENOMEM);
			return;
		}
		t->held = h;
		t->cap_held = cap;
	}
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		exec_program(argv);
	if (pid < 0) {
		reply_err(errno);
		return;
	}
	t->held[t->nheld++] = pid;
	printf("ok %d\n", (int)pid);
}

static void forget_held(struct target *t, pid_t pid)
{
	for (size_t i = 0; i < t->nheld; i++)
		if (t->held[i] == pid)
			t->held[i] = t->held[--t->nheld];
}

static void cmd_killchild(struct target *t, int argc, char **argv)
{
	struct child *c;
	int pid, sig, status, err;

	if (argc != 2 || !parse_int(argv[0], &pid) || !parse_int(argv[1], &sig)) {
		printf("err usage\n");
		return;
	}
	if (kill(pid, sig) < 0) {
		reply_err(errno);
		return;
	}
	err = reap(pid, &status);
	if (err) {
		reply_err(err);
		return;
	}
	c = find_child(t, pid);
	if (c)
		drop_child(t, c);
	forget_held(t, pid);
	printf("ok %d\n", status);
}

static void cmd_forkkill(int argc, char **argv)
{
	int sig, status, err;
	pid_t pid;

	if (argc != 1 || !parse_int(argv[0], &sig)) {
		printf("err usage\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		signal(sig, SIG_DFL);
		kill(getpid(), sig);
		_exit(126);	/* the signal was not fatal */
	}
	if (pid < 0) {
		reply_err(errno);
		return;
	}
	err = reap(pid, &status);
	if (err)
		reply_err(err);
	else
		printf("ok %d %d\n", (int)pid, status);
}

/* ---- names ---- */

static void cmd_rename(int argc, char **argv)
{
	if (argc != 1) {
		printf("err usage\n");
		return;
	}
	if (prctl(PR_SET_NAME, argv[0], 0, 0, 0) < 0)
		reply_err(errno);
	else
		printf("ok\n");
}

static void cmd_renameproc(int argc, char **argv)
{
	size_t len;
	int fd;

	if (argc != 1) {
		printf("err usage\n");
		return;
	}
	fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		reply_err(errno);
		return;
	}
	len = strlen(argv[0]);
	if (write(fd, argv[0], len) != (ssize_t)len)
		reply_err(errno);
	else
		printf("ok\n");
	close(fd);
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char c;

	w->tid = gettid_();
	sem_post(&w->ready);
	read_full(w->ctl[0], &c, 1);	/* a byte or EOF: either ends us */
	return NULL;
}

static void worker_free(struct worker *w)
{
	close(w->ctl[0]);
	close(w->ctl[1]);
	sem_destroy(&w->ready);
	free(w);
}

static bool add_worker(struct target *t, struct worker *w)
{
	if (t->nworkers == t->cap_workers) {
		size_t cap = t->cap_workers ? t->cap_workers * 2 : 8;
		struct worker **v = realloc(t->workers, cap * sizeof(*v));

		if (!v)
			return false;
		t->workers = v;
		t->cap_workers = cap;
	}
	t->workers[t->nworkers++] = w;
	return true;
}

static struct worker *worker_start(int *err)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w) {
		*err = ENOMEM;
		return NULL;
	}
	if (pipe2(w->ctl, O_CLOEXEC) < 0) {
		*err = errno;
		free(w);
		return NULL;
	}
	sem_init(&w->ready, 0, 0);
	*err = pthread_create(&w->th, NULL, worker_main, w);
	if (*err) {
		worker_free(w);
		return NULL;
	}
	while (sem_wait(&w->ready) < 0 && errno == EINTR)
		;
	return w;
}

static void worker_end(struct worker *w)
{
	char c = 'q';

	if (write(w->ctl[1], &c, 1) != 1)
		close(w->ctl[1]);	/* EOF wakes it just as well */
	pthread_join(w->th, NULL);
	worker_free(w);
}

static void cmd_thread(struct target *t)
{
	struct worker *w;
	int err;

	w = worker_start(&err);
	if (!w) {
		reply_err(err);
		return;
	}
	if (!add_worker(t, w)) {
		worker_end(w);
		reply_err(ENOMEM);
		return;
	}
	printf("ok %d\n", (int)w->tid);
}

static void cmd_endthread(struct target *t, int argc, char **argv)
{
	int tid;

	if (argc != 1 || !parse_int(argv[0], &tid)) {
		printf("err usage\n");
		return;
	}
	for (size_t i = 0; i < t->nworkers; i++) {
		if (t->workers[i]->tid == tid) {
			worker_end(t->workers[i]);
			t->workers[i] = t->workers[--t->nworkers];
			printf("ok\n");
			return;
		}
	}
	reply_err(ESRCH);
}

static void end_all_workers(struct target *t)
{
	while (t->nworkers > 0)
		worker_end(t->workers[--t->nworkers]);
}

/* ---- process-wide commands ---- */

/*
 * Re-exec ourselves.  The path resolved at start comes first: after
 * "leaderexit", /proc/self/exe (the exited leader's link) is gone, and
 * under valgrind it names valgrind's own loader.  /proc/self/exe and then
 * the calling thread's view are the fallbacks if our file was moved.
 */
static void cmd_exec(const struct target *t)
{
	char *args[] = { "kmtarget", "--after-exec", NULL };

	fflush(stdout);
	if (t->exe[0])
		execv(t->exe, args);
	execv("/proc/self/exe", args);
	execv("/proc/thread-self/exe", args);
	reply_err(errno);
}

static void cmd_kill(int argc, char **argv)
{
	int sig;

	if (argc != 1 || !parse_int(argv[0], &sig)) {
		printf("err usage\n");
		return;
	}
	fflush(stdout);
	if (kill(getpid(), sig) < 0)
		reply_err(errno);
	else
		printf("ok\n");	/* the signal was not fatal */
}

static void target_free(struct target *t)
{
	for (size_t i = 0; i < t->nchildren; i++)
		if (t->children[i].ctl >= 0)
			close(t->children[i].ctl);
	free(t->children);
	free(t->zombies);
	/* What spawnhold left running ends with us, not minutes later. */
	for (size_t i = 0; i < t->nheld; i++)
		kill(t->held[i], SIGKILL);
	free(t->held);
	/*
	 * Threads still running are left blocked, not ended: ending them
	 * first would add THREAD_EXIT events the test did not ask for.  The
	 * process is about to exit, which ends them.
	 */
	free(t->workers);
	free(t);
}

static _Noreturn void finish(struct target *t, int code)
{
	fflush(stdout);
	target_free(t);
	exit(code);
}

/*
 * Runs one command.  Returns true to keep looping; on false, *end says
 * what the caller must do (and *code the exit status for LOOP_EXIT).
 */
static bool dispatch(struct target *t, char *line, enum loop_end *end,
		     int *code)
{
	char *argv[MAX_ARGS + 2], *save, *tok;	/* + a NULL after the last word */
	int argc = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == MAX_ARGS + 1) {
			printf("err usage\n");
			return true;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		printf("err usage\n");
		return true;
	}
	argc--;
	*end = LOOP_EXIT;
	if (!strcmp(argv[0], "pid") && argc == 0)
		printf("ok %d %u\n", (int)getpid(), (unsigned)getuid());
	else if (!strcmp(argv[0], "fork") && argc == 0)
		cmd_fork(t);
	else if (!strcmp(argv[0], "exitchild"))
		cmd_exitchild(t, argc, argv + 1);
	else if (!strcmp(argv[0], "reap"))
		cmd_reap(t, argc, argv + 1);
	else if (!strcmp(argv[0], "forkexit"))
		cmd_forkexit(argc, argv + 1);
	else if (!strcmp(argv[0], "tree"))
		cmd_tree(t, argc, argv + 1);
	else if (!strcmp(argv[0], "spawn"))
		cmd_spawn(t, argc, argv + 1);
	else if (!strcmp(argv[0], "reapall") && argc == 0)
		cmd_reapall(t);
	else if (!strcmp(argv[0], "spawnhold"))
		cmd_spawnhold(t, argc, argv + 1);
	else if (!strcmp(argv[0], "killchild"))
		cmd_killchild(t, argc, argv + 1);
	else if (!strcmp(argv[0], "forkkill"))
		cmd_forkkill(argc, argv + 1);
	else if (!strcmp(argv[0], "rename"))
		cmd_rename(argc, argv + 1);
	else if (!strcmp(argv[0], "renameproc"))
		cmd_renameproc(argc, argv + 1);
	else if (!strcmp(argv[0], "thread") && argc == 0)
		cmd_thread(t);
	else if (!strcmp(argv[0], "endthread"))
		cmd_endthread(t, argc, argv + 1);
	else if (!strcmp(argv[0], "exec") && argc == 0)
		cmd_exec(t);
	else if (!strcmp(argv[0], "kill"))
		cmd_kill(argc, argv + 1);
	else if (!strcmp(argv[0], "exit") && argc == 1 &&
		 parse_int(argv[1], code))
		return false;
	else if (!strcmp(argv[0], "leaderexit") && argc == 0 &&
		 !t->leader_gone) {
		*end = LOOP_LEADEREXIT;
		return false;
	} else if (!strcmp(argv[0], "endall") && argc == 0) {
		end_all_workers(t);
		printf("ok\n");
		*code = 0;
		return false;
	} else if (!strcmp(argv[0], "quit") && argc == 0) {
		printf("ok\n");
		*code = 0;
		return false;
	} else
		printf("err usage\n");
	return true;
}

static enum loop_end command_loop(struct target *t, int *code)
{
	char line[LINE_MAX_LEN];
	enum loop_end end = LOOP_EXIT;

	*code = 0;
	while (read_line(line, sizeof(line))) {
		bool go_on = dispatch(t, line, &end, code);

		fflush(stdout);
		if (!go_on)
			return end;
	}
	return LOOP_EXIT;	/* EOF */
}

/*
 * Wait until the thread-group leader is a zombie task: pthread_join only
 * tells us it has released its user-space state, a little before the
 * kernel marks it 'Z'.  Bounded, so a surprise cannot hang the test.
 */
static void wait_leader_zombie(void)
{
	const struct timespec tick = { 0, 1000000 };
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		char *paren;
		size_t n;

		if (!f)
			return;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			return;
		nanosleep(&tick, NULL);
	}
}

/* Runs the command loop in place of the exited leader. */
static void *successor_main(void *arg)
{
	struct target *t = arg;
	enum loop_end end;
	int code;

	pthread_join(t->leader, NULL);
	wait_leader_zombie();
	printf("ok %d\n", (int)gettid_());
	fflush(stdout);
	end = command_loop(t, &code);
	(void)end;	/* leaderexit is refused once the leader is gone */
	finish(t, code);
}

static void leader_exit(struct target *t)
{
	pthread_t th;
	int err;

	t->leader = pthread_self();
	t->leader_gone = true;
	err = pthread_create(&th, NULL, successor_main, t);
	if (err) {
		t->leader_gone = false;
		reply_err(err);
		fflush(stdout);
		return;
	}
	pthread_detach(th);
	pthread_exit(NULL);
}

int main(int argc, char *argv[])
{
	struct target *t = calloc(1, sizeof(*t));
	int code;

	if (!t) {
		perror("calloc");
		return 1;
	}
	/* The state lives on the heap: it must outlive main's stack frame
	 * when the leader exits and another thread carries on. */
	ssize_t n = readlink("/proc/self/exe", t->exe, sizeof(t->exe) - 1);

	t->exe[n > 0 ? n : 0] = '\0';
	if (argc > 1 && !strcmp(argv[1], "--after-exec")) {
		printf("ok %d\n", (int)getpid());
		fflush(stdout);
	}
	while (command_loop(t, &code) == LOOP_LEADEREXIT)
		leader_exit(t);	/* returns only if the hand-over failed */
	finish(t, code);
}
