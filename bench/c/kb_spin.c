/*
 * kb_spin.c - keeps every CPU out of its idle state, at the lowest priority there is.
 *
 *   kb_spin
 *
 * Runs one SCHED_IDLE busy loop per online CPU until killed (or until its
 * parent dies).  On a virtual machine an idle vCPU halts, and waking it
 * costs the hypervisor tens of microseconds: a benchmark of wake-ups (a
 * FUSE round trip, a signal, a netlink message) then measures the host more
 * than the guest.  With these loops the vCPUs stay running, and any normal
 * task that wakes preempts them at once, as on a busy machine.  bench/run
 * measures the wake-up-bound sections both ways.
 */
#include "common.h"

#include <sched.h>
#include <sys/prctl.h>

int main(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct sched_param param = { .sched_priority = 0 };
	if (sched_setscheduler(0, SCHED_IDLE, &param) != 0)
		KB_DIE("kb_spin: SCHED_IDLE: %s", strerror(errno));
	for (long i = 1; i < cpus; i++) {
		pid_t child = fork();
		if (child == 0)
			break;
		if (child < 0)
			KB_DIE("kb_spin: fork: %s", strerror(errno));
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (volatile unsigned long n = 0;; n++)
		;
}
