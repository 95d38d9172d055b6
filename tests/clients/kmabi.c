/*
 * kmabi.c - prints the layouts of the C structs the daemon binds by hand
 * (src/Core/Interop), as this machine's compiler and headers lay them out,
 * one "NAME VALUE" per line, for the unit test that compares them with the
 * C# declarations: offsets and sizes come from the headers, not from numbers
 * written into the test.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/capability.h>
#include <linux/netlink.h>

#define SHOW(name, value) printf("%s %zu\n", name, (size_t)(value))

int main(void)
{
	SHOW("siginfo_t", sizeof(siginfo_t));
	SHOW("siginfo_t.si_signo", offsetof(siginfo_t, si_signo));
	SHOW("siginfo_t.si_errno", offsetof(siginfo_t, si_errno));
	SHOW("siginfo_t.si_code", offsetof(siginfo_t, si_code));
	SHOW("siginfo_t.si_pid", offsetof(siginfo_t, si_pid));
	SHOW("siginfo_t.si_uid", offsetof(siginfo_t, si_uid));
	SHOW("siginfo_t.si_int", offsetof(siginfo_t, si_int));
	SHOW("sockaddr_nl", sizeof(struct sockaddr_nl));
	SHOW("sockaddr_nl.nl_pid", offsetof(struct sockaddr_nl, nl_pid));
	SHOW("sockaddr_nl.nl_groups", offsetof(struct sockaddr_nl, nl_groups));
	SHOW("timeval", sizeof(struct timeval));
	SHOW("timeval.tv_usec", offsetof(struct timeval, tv_usec));
	SHOW("cap_user_header", sizeof(struct __user_cap_header_struct));
	SHOW("cap_user_data", sizeof(struct __user_cap_data_struct));
	SHOW("CMSG_LEN(int)", CMSG_LEN(sizeof(int)));
	SHOW("CMSG_SPACE(int)", CMSG_SPACE(sizeof(int)));
	return 0;
}
