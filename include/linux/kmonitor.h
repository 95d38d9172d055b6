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

#include <linux/ioctl.h>	/* _IOW(), _IOWR() */
#include <linux/types.h>	/* __u16, __u32, __s32, __u64 */
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
 * Beyond 2004: records read from the same file, and subscriptions.
 *
 * REGISTER with signal == 0 queues each notification as a struct
 * kmonitor_event on the open file instead of sending a signal; read(2)
 * returns whole records (a buffer under 64 bytes is EINVAL), blocks when
 * none is queued (EAGAIN under O_NONBLOCK; EINTR when a signal arrives, even
 * with SA_RESTART), and poll(2) reports POLLIN while one is queued.
 */
#define KMONITOR_PROCESS_EXISTING 0x80   /* SUBSCRIBE: a match that was already running */
#define KMONITOR_EVENT_LOST       0x8000 /* a record: `status` records were dropped here */

struct kmonitor_event {          /* 64 bytes */
	__u16 size;      /* sizeof(struct kmonitor_event) = 64 */
	__u16 type;      /* one event bit, KMONITOR_PROCESS_EXISTING or KMONITOR_EVENT_LOST */
	__u32 seq;       /* per open file: 1, 2, 3, ... with no gap (LOST records count too) */
	__u64 time_ns;   /* CLOCK_MONOTONIC time of the event (the connector's timestamp) */
	__s32 pid;       /* the task the event is about (what si_pid holds), in the reader's pid namespace */
	__s32 tgid;      /* its process */
	__s32 ppid;      /* PROCESS_FORK, THREAD_CREATE: the process that forked; else its parent or 0 */
	__u32 uid;       /* its real uid (what si_uid holds) */
	__s32 status;    /* *_EXIT, *_ABORT: the wait status (WIFEXITED, WTERMSIG... apply); LOST: how many were dropped */
	__u32 watch;     /* the pid given to REGISTER, or the id SUBSCRIBE returned */
	char  comm[16];  /* the process name, NUL-terminated; at exit, the name it had */
	__u64 reserved;  /* 0 */
};

#define KMONITOR_SCOPE_TREE  1  /* pid and every process descended from it */
#define KMONITOR_SCOPE_NAME  2  /* every process whose name (comm) equals pattern */
#define KMONITOR_SCOPE_REGEX 3  /* every process whose name matches the extended regular expression pattern */
#define KMONITOR_SCOPE_ALL   4  /* every process the caller may watch */

#define KMONITOR_MATCH_CMDLINE 0x1 /* REGEX: match the command line (argv joined by single spaces), like pgrep -f */

struct kmonitor_subscription {   /* 256 bytes */
	__u32 scope;        /* KMONITOR_SCOPE_* */
	__u32 type;         /* event bits, | KMONITOR_PROCESS_EXISTING for the matches alive now */
	__s32 pid;          /* TREE: the root */
	__s32 signal;       /* 0: records on this file; 1..64: a queued signal, as REGISTER sends */
	__u32 flags;        /* KMONITOR_MATCH_CMDLINE */
	__u32 id;           /* out: > 0, unique within the open file */
	char  pattern[232]; /* NAME, REGEX: NUL-terminated */
};

#define KMONITOR_IOWR_SUBSCRIBE  _IOWR(0xDE, 3, struct kmonitor_subscription)
#define KMONITOR_IOW_UNSUBSCRIBE _IOW(0xDE, 4, __u32)

/*
 * The ioctl numbers encode the struct sizes (0x400CDE01 / 0x400CDE02,
 * 0xC100DE03, 0x4004DE04), and the daemon reads exactly that many bytes, so
 * a different layout is an ABI break.
 */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct kmonitor_cmd) == 12,
	       "struct kmonitor_cmd must be 12 bytes");
_Static_assert(sizeof(struct kmonitor_event) == 64,
	       "struct kmonitor_event must be 64 bytes");
_Static_assert(sizeof(struct kmonitor_subscription) == 256,
	       "struct kmonitor_subscription must be 256 bytes");
#endif

#endif /* _LINUX_KMONITOR_H_ */
