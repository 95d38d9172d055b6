/*
 * linux/kmonitor.h - user-space ABI of the kmonitor device (/dev/kmonitor).
 *
 * This is the part of the 2004 kmonitor kernel patch's header that user
 * programs see; kmonitord serves the same ABI from user space, so programs
 * written against the original header build and run unchanged.
 *
 * A monitor opens the device and, with KMONITOR_IOW_REGISTER, asks to be
 * told about events (a bitmask of the KMONITOR_* bits below) on one target
 * task.  Each event arrives as a queued signal (the one named at
 * registration) with si_code == SI_QUEUE, si_pid == the task the event is
 * about, si_uid == that task's real uid and si_int == the event bit.
 * Closing the file drops every registration made through it.
 */
#ifndef _LINUX_KMONITOR_H_
#define _LINUX_KMONITOR_H_

#include <linux/ioctl.h>	/* _IOW() */
#include <sys/types.h>		/* pid_t */

#define KMONITOR_THREAD_CREATE	0x01
#define KMONITOR_THREAD_ABORT	0x02
#define KMONITOR_THREAD_EXIT	0x04
#define KMONITOR_PROCESS_FORK	0x08
#define KMONITOR_PROCESS_ABORT	0x10
#define KMONITOR_PROCESS_EXEC	0x20
#define KMONITOR_PROCESS_EXIT	0x40

/* The ioctl argument; 'type' is a mask of the event bits above. */
struct kmonitor_cmd
{
	pid_t pid;
	int type;
	int signal;
};

#define KMONITOR_IOW_REGISTER	_IOW(0xDE, 1, struct kmonitor_cmd)
#define KMONITOR_IOW_DEREGISTER	_IOW(0xDE, 2, struct kmonitor_cmd)

/*
 * The ioctl numbers encode the struct size (0x400CDE01 / 0x400CDE02), and
 * the daemon reads exactly 12 bytes, so a different layout is an ABI break.
 */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct kmonitor_cmd) == 12,
	       "struct kmonitor_cmd must be 12 bytes");
#endif

#endif /* _LINUX_KMONITOR_H_ */
