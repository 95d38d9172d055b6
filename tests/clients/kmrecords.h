/*
 * kmrecords.h - kmclient's commands for records and subscriptions (read,
 * poll, epoll, SUBSCRIBE...), kept apart from the 2004 commands in
 * kmclient.c.  The line protocol of both is documented at the top of
 * kmclient.c.
 */
#ifndef KMONITOR_TEST_CLIENTS_KMRECORDS_H
#define KMONITOR_TEST_CLIENTS_KMRECORDS_H

#include <stdbool.h>

/* kmclient.c's number parsers, shared so both files accept the same syntax. */
bool parse_ll(const char *s, long long *out);
bool parse_int(const char *s, int *out);

/* Installs the SIGALRM handler reads are ended with; in main, before any thread. */
int records_init(void);

/*
 * Runs the command if it is one of ours (argv[0] is its name, argc counts
 * the words after it; line is the whole unsplit line, for "sub"'s pattern).
 * Returns false for a command it does not know.
 */
bool records_dispatch(const char *line, int argc, char **argv);

#endif
