/*
 * doc_example.c - the example client from Documentation/kmonitor.txt of the
 * 2004 kmonitor patch, with its <snip> parts filled in.
 *
 * Everything outside the "filled in" blocks is the documentation's text,
 * kept as published, so building this file proves that
 * include/linux/kmonitor.h still serves code written against the original
 * header.  Usage: doc_example PID
 */

/* ---- filled in: <snip>rest of required headers...</snip> ---- */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * In 2004 glibc spelled siginfo_t as "typedef struct siginfo {...}
 * siginfo_t", and the handler below names the struct tag.  Current glibc
 * leaves the struct untagged, so declare the tag here; the handler only
 * ever passes the pointer along, never dereferences it.
 */
struct siginfo;

/* The documented handler ignores its arguments; -Wextra would object. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
/* ---- end of filled in ---- */
#include <linux/kmonitor.h>

void target_exit_handler (int signum , struct siginfo * info, void * buf)
{
	/*
	 * Since we only registered for one type of event,
	 * KMONITOR_PROCESS_EXIT, on one process, then we already
	 * know our target process has exited
	 *
	 * If we were doing something more complex, then the data in
	 * info might be usefull:
	 * 1. info->si_pid: process id of target process
	 * 2. info->si_gid: group id of target process
	 * 3. info->si_int: event that triggered this signal
	 * (See include/linux/kmonitor.h for the list of events)
	 *
	 * The target process has exited, so we are done. Kmonitor
	 * will do cleanup when we close the file descriptor for
	 * /dev/kmonitor (which will happen automatically when we
	 * exit.)
	 */
	exit(0);
}

int main(int argc, char *argv[])
{
/* ---- filled in: <snip>...</snip> ---- */
	struct { pid_t pid; } args;
	struct sigaction action;
	struct kmonitor_cmd hdr;
	sigset_t empty_mask;
	int fd;

	if (argc != 2 || (args.pid = (pid_t)atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		exit(-1);
	}
	sigemptyset(&action.sa_mask);

	/*
	 * sa_sigaction takes a siginfo_t *, the documented handler a
	 * struct siginfo * (see the note at the top); both are the same
	 * pointer to the kernel's siginfo, so only the compiler needs telling.
	 */
#define target_exit_handler \
	((void (*)(int, siginfo_t *, void *))target_exit_handler)
/* ---- end of filled in ---- */

	/*
	 * kmonitor will notify us that the target process has exited
	 * by sending us a real-time signal with the payload containing
	 * the event that triggered the notification.
	 */
	action.sa_sigaction = target_exit_handler;
	action.sa_flags = SA_SIGINFO;
	if (-1 == sigaction(SIGRTMIN, &action, NULL)) {
		perror("sigaction");
		exit(-1);
	}

	/*
	 * The kmonitor is implemented as misc char device, so the
	 * file that needs to be opened (assumed to be /dev/kmonitor
	 * in this example) is a char device with a major number of 10
	 * and a minor number of 221.
	 *
	 * mknod /dev/kmonitor c 10 221
	 */
	fd = open("/dev/kmonitor", O_WRONLY);
	if (-1 == fd) {
		perror("open /dev/kmonitor");
		exit(-1);
	}

	/*
	 * To sign up for notification of an arbitrary event on an
	 * arbitrary process then we send the KMONITOR_IOW_REGISTER
	 * command to the device via the ioctl system call.
	 *
	 * We indicate the target process and event by sending a
	 * kmonitor_cmd structure.
	 *
	 * NOTE: The 'type' field in the structure is actually
	 * a bitmask, so it is possible to register for
	 * multiple events on a given target process in one
	 * ioctl call. The possible events are...
	 * #define KMONITOR_THREAD_CREATE 0x01
	 * #define KMONITOR_THREAD_ABORT 0x02
	 * #define KMONITOR_THREAD_EXIT 0x04
	 * #define KMONITOR_PROCESS_FORK 0x08
	 * #define KMONITOR_PROCESS_ABORT 0x10
	 * #define KMONITOR_PROCESS_EXEC 0x20
	 * #define KMONITOR_PROCESS_EXIT 0x40
	 */
	hdr.signal = SIGRTMIN;

	hdr.pid = args.pid;
	hdr.type = KMONITOR_PROCESS_EXIT;
	if (-1 == ioctl(fd, KMONITOR_IOW_REGISTER, &hdr)) {
		perror("ioctl");
		exit(-1);
	}

	/*
	 * In this very simple example all we need to do is wait
	 * for a signal to be sent. The signal handler will exit
	 * when it is notified of the target process exiting.
	 */
	sigemptyset(&empty_mask);
	sigsuspend(&empty_mask);

	/*
	 * kmonitor will perform a cleanup of all request a given
	 * monitoring process has made, so it is required to deregister
	 * each of the specific request.
	 *
	 * If for some reason a monitoring process wanted to deregister
	 * a specific request, then the procedure is just like registering,
	 * other then the ioctl command is KMONITOR_IOW_DEREGISTER.
	 */
	close(fd);
	exit (0);
}
