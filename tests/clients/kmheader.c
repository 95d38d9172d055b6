/*
 * kmheader.c - prints every constant and struct layout of
 * include/linux/kmonitor.h, one "NAME VALUE" per line, as the compiler sees
 * the header.  The daemon (src/Core/Abi) and the client library
 * (src/Client/Interop) each declare the ABI in C#; the unit test that reads
 * this output holds both to the header, so the two copies cannot drift.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/kmonitor.h>

#define CONST(name) printf("%s %lu\n", #name, (unsigned long)(name))
#define SIZE(type) printf("sizeof(%s) %zu\n", #type, sizeof(struct type))
#define OFFSET(type, field) printf("%s.%s %zu\n", #type, #field, offsetof(struct type, field))

int main(void)
{
	CONST(KMONITOR_THREAD_CREATE);
	CONST(KMONITOR_THREAD_ABORT);
	CONST(KMONITOR_THREAD_EXIT);
	CONST(KMONITOR_PROCESS_FORK);
	CONST(KMONITOR_PROCESS_ABORT);
	CONST(KMONITOR_PROCESS_EXEC);
	CONST(KMONITOR_PROCESS_EXIT);
	CONST(KMONITOR_PROCESS_EXISTING);
	CONST(KMONITOR_EVENT_LOST);
	CONST(KMONITOR_SCOPE_TREE);
	CONST(KMONITOR_SCOPE_NAME);
	CONST(KMONITOR_SCOPE_REGEX);
	CONST(KMONITOR_SCOPE_ALL);
	CONST(KMONITOR_MATCH_CMDLINE);
	CONST(KMONITOR_IOW_REGISTER);
	CONST(KMONITOR_IOW_DEREGISTER);
	CONST(KMONITOR_IOWR_SUBSCRIBE);
	CONST(KMONITOR_IOW_UNSUBSCRIBE);

	SIZE(kmonitor_cmd);
	OFFSET(kmonitor_cmd, pid);
	OFFSET(kmonitor_cmd, type);
	OFFSET(kmonitor_cmd, signal);

	SIZE(kmonitor_event);
	OFFSET(kmonitor_event, size);
	OFFSET(kmonitor_event, type);
	OFFSET(kmonitor_event, seq);
	OFFSET(kmonitor_event, time_ns);
	OFFSET(kmonitor_event, pid);
	OFFSET(kmonitor_event, tgid);
	OFFSET(kmonitor_event, ppid);
	OFFSET(kmonitor_event, uid);
	OFFSET(kmonitor_event, status);
	OFFSET(kmonitor_event, watch);
	OFFSET(kmonitor_event, comm);
	OFFSET(kmonitor_event, reserved);

	SIZE(kmonitor_subscription);
	OFFSET(kmonitor_subscription, scope);
	OFFSET(kmonitor_subscription, type);
	OFFSET(kmonitor_subscription, pid);
	OFFSET(kmonitor_subscription, signal);
	OFFSET(kmonitor_subscription, flags);
	OFFSET(kmonitor_subscription, id);
	OFFSET(kmonitor_subscription, pattern);
	return 0;
}
