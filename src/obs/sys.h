/*
 * Internal: what the machine says about this process (Linux /proc), for the alerts and the
 * metrics. The parsers are pure (text in, numbers out) so tests feed them; the readers return
 * an error where the kernel lacks the file, and the callers then leave the figure out.
 */
#ifndef HV_OBS_SYS_H
#define HV_OBS_SYS_H

#include <stddef.h>
#include <stdint.h>

#include "obs/snap.h"

/* /proc/<pid>/task/<tid>/schedstat: "<ns on a CPU> <ns waiting on a run queue> <slices>".
 * Returns 0 or HV_EPARSE. */
int hv__obs_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns);

/* /proc/self/statm: "<size> <resident> ..." in pages. Returns 0 or HV_EPARSE. */
int hv__obs_parse_statm(const char *text, uint64_t page_bytes, uint64_t *rss_bytes);

/* /proc/pressure/cpu: the "some avg10=X" figure as a ratio (X / 100). Returns 0 or
 * HV_EPARSE. */
int hv__obs_parse_psi(const char *text, double *some_avg10);

/* Reads a small file into buf (NUL-terminated). Returns 0, HV_NOTFOUND-like errors, HV_IO. */
int hv__obs_read_file(const char *path, char *buf, size_t cap);

/* The calling thread's CPU time and context switches (getrusage) and run-queue wait
 * (schedstat, have_wait = 0 where absent). The name is left as it is. */
void hv__obs_thread_self(hv_obs_thread *t);

/* Resident memory of the process in bytes (0 if unknown). */
uint64_t hv__obs_rss_bytes(void);

/* /proc/pressure/cpu some avg10 as a ratio, or NaN where the kernel has no PSI. */
double hv__obs_cpu_pressure(void);

#endif /* HV_OBS_SYS_H */
