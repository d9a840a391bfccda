/*
 * What the long commands share about their progress (run, coordinator, backtest): the
 * progress line on stderr, and Ctrl-C asking the run to stop at the next cycle boundary.
 *
 * Progress: a bar redrawn 10 times a second when stderr is a terminal, one plain line a second
 * when it is not, nothing when off (--no-progress, or --quiet without --progress).
 *
 * Stop signals: between hv__cli_stop_catch() and hv__cli_stop_release(), the first SIGINT or
 * SIGTERM is only recorded (hv__cli_stop_signal() returns it) and the command stops after the
 * cycle that is running, writing what it has, marked partial; a second one ends the process
 * as the signal would have. Process-wide: one run at a time.
 */
#ifndef HV_CLI_PROGRESS_H
#define HV_CLI_PROGRESS_H

#include <stdint.h>

typedef struct hv_cli_progress {
    const char *cmd;  /* "run" */
    const char *unit; /* "cycles", "bars" */
    int show;         /* 0: nothing */
    int tty;          /* draw a bar (stderr is a terminal) */
    uint64_t start_ns, last_ns;
    int drawn; /* a bar is on the line (a message must start a new one) */
} hv_cli_progress;

/* mode: -1 auto (a bar on a terminal, lines otherwise), 0 off, 1 on. */
void hv__cli_progress_init(hv_cli_progress *p, const char *cmd, const char *unit, int mode);

/* done of total units: redraws when it is time (always at done == total). */
void hv__cli_progress_update(hv_cli_progress *p, uint64_t done, uint64_t total);

/* Ends a bar's line so that what follows starts at the margin. */
void hv__cli_progress_break(hv_cli_progress *p);

void hv__cli_stop_catch(void);
void hv__cli_stop_release(void);
/* The stop signal received since hv__cli_stop_catch() (SIGINT, SIGTERM), or 0. */
int hv__cli_stop_signal(void);
/* "SIGINT", "SIGTERM", or NULL for 0. */
const char *hv__cli_signal_name(int sig);

#endif /* HV_CLI_PROGRESS_H */
