/*
 * eb_startat.h — ebload's synchronized start (--start-at): every shard of a
 * run (--shard I/N, on one host or many) plans its connections and mints
 * its token first, then waits for one shared wall-clock instant and ramps
 * up from there, so the shards' load adds up as planned.
 *
 * The instant is absolute (CLOCK_REALTIME): nothing received or done while
 * waiting can extend the wait, and a clock that is stepped while waiting is
 * followed (the wait ends when the wall clock says so). Hosts must keep their
 * clocks in step (NTP, chrony): the report's measured skew is against each
 * host's own clock. Socket-free.
 */
#ifndef EB_STARTAT_H
#define EB_STARTAT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The farthest --start-at ahead of now: a typo (a Unix time in ms read as
 * seconds is centuries ahead) fails at once instead of waiting. */
#define EB_STARTAT_MAX_AHEAD_MS (3600ULL * 1000)

/* Parses v into *at_ms (ms since the epoch) given the wall clock now_ms:
 * "+S" is S seconds from now (a decimal, 0 < S <= 3600), a bare integer is
 * a Unix time in seconds, or in milliseconds when it has 12 digits or more
 * (1e11 s is the year 5138). 0, or -1 with a one-line reason in err (not a
 * time, in the past, more than EB_STARTAT_MAX_AHEAD_MS ahead). */
int eb_startat_parse(const char *v, uint64_t now_ms, uint64_t *at_ms, char *err, size_t errlen);

/* Waits until the wall clock reaches at_ms or *stop becomes non-zero
 * (checked every 20 ms at the most; may be NULL), and returns the wall
 * clock when the wait ended, in microseconds since the epoch: the measured
 * start. At or past at_ms already: returns at once. */
uint64_t eb_startat_wait(uint64_t at_ms, const volatile sig_atomic_t *stop);

/* The wall clock in microseconds since the epoch. */
uint64_t eb_startat_now_us(void);

#endif
