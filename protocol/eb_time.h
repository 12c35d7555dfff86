/*
 * eb_time.h — clocks. No sockets, no state.
 */
#ifndef EB_TIME_H
#define EB_TIME_H

#include <stdint.h>

/* Wall clock, milliseconds since the Unix epoch. */
uint64_t eb_time_now_ms(void);
/* Monotonic clock in nanoseconds, for durations and latencies. */
uint64_t eb_time_mono_ns(void);

#endif
