/*
 * common.h - helpers shared by the kmonitord benchmarks (bench/c/kb_*.c).
 *
 * Clock, /proc readings, the kmonitor ioctls, and a minimal netlink
 * process-connector listener used as the reference every daemon built on
 * the connector is measured against.  The listener subscribes with
 * PROC_CN_MCAST_LISTEN and never sends PROC_CN_MCAST_IGNORE (before
 * Linux 6.6 that would silence every other listener): it just closes.
 */
#ifndef KB_COMMON_H
#define KB_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <linux/kmonitor.h>

#define KB_DIE(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(2); } while (0)

static inline uint64_t kb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int kb_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* REGISTER or DEREGISTER; returns 0 or the errno. */
static inline int kb_ioctl(int fd, unsigned long request, pid_t pid, int type, int sig)
{
	struct kmonitor_cmd cmd = { .pid = pid, .type = type, .signal = sig };
	return ioctl(fd, request, &cmd) == 0 ? 0 : errno;
}

/* Reads /proc/PID/NAME into buf as a string; its length, or -1 if unreadable. */
static inline ssize_t kb_read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* utime + stime of a process, in clock ticks, from /proc/PID/stat; -1 if unreadable. */
static inline long long kb_cpu_ticks(pid_t pid)
{
	char buf[2048];
	if (kb_read_proc(pid, "stat", buf, sizeof buf) < 0)
		return -1;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return -1;
	/* after ") ": state(3) ... utime is field 14, stime 15 */
	long long utime = 0, stime = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
		field++;
		if (field == 14)
			utime = atoll(tok);
		else if (field == 15) {
			stime = atoll(tok);
			break;
		}
	}
	return utime + stime;
}

static inline double kb_ticks_to_ms(long long ticks)
{
	return (double)ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of a process in KiB; -1 if unreadable. */
static inline long kb_rss_kib(pid_t pid)
{
	char buf[4096];
	if (kb_read_proc(pid, "status", buf, sizeof buf) < 0)
		return -1;
	char *p = strstr(buf, "VmRSS:");
	return p ? atol(p + 6) : -1;
}

/* ---- the reference: a raw netlink process-connector listener ---------- */

/* struct proc_input of Linux 6.6+ (the installed uapi headers may predate it). */
struct kb_proc_input {
	uint32_t mcast_op;
	uint32_t event_type;
};

/* The event types kmonitord asks the kernel's filter for: FORK, EXEC, EXIT, UID. */
#define KB_EVENTS (PROC_EVENT_FORK | PROC_EVENT_EXEC | PROC_EVENT_EXIT | PROC_EVENT_UID)

static inline int kb_kernel_has_event_filter(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 6);
}

/*
 * Opens a NETLINK_CONNECTOR socket subscribed to the process connector, with
 * the same event filter as kmonitord (Linux 6.6+), and a receive buffer of
 * rcvbuf bytes (SO_RCVBUFFORCE, as the daemon).
 */
static inline int kb_cn_open(int rcvbuf)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		KB_DIE("socket(NETLINK_CONNECTOR): %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
		KB_DIE("SO_RCVBUFFORCE: %s", strerror(errno));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		KB_DIE("bind(CN_IDX_PROC): %s", strerror(errno));

	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		struct kb_proc_input in;
	} __attribute__((packed)) msg;
	int filter = kb_kernel_has_event_filter();
	size_t payload = filter ? sizeof(struct kb_proc_input) : sizeof(uint32_t);
	memset(&msg, 0, sizeof msg);
	msg.nl.nlmsg_len = (uint32_t)(sizeof msg.nl + sizeof msg.cn + payload);
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = (uint16_t)payload;
	msg.in.mcast_op = PROC_CN_MCAST_LISTEN;
	msg.in.event_type = KB_EVENTS;
	if (send(fd, &msg, msg.nl.nlmsg_len, 0) != (ssize_t)msg.nl.nlmsg_len)
		KB_DIE("send(PROC_CN_MCAST_LISTEN): %s", strerror(errno));
	return fd;
}

/* Calls fn(ev, arg) for each process event in one datagram of n bytes. */
static inline void kb_cn_parse(const void *buf, ssize_t n,
			       void (*fn)(const struct proc_event *, void *), void *arg)
{
	for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type != NLMSG_DONE)
			continue;
		const struct cn_msg *cn = NLMSG_DATA(nh);
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
			continue;
		fn((const struct proc_event *)cn->data, arg);
	}
}

/* Sorting and percentiles of latencies in ns. */
static inline int kb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static inline uint64_t kb_percentile(const uint64_t *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

#endif
