/* Progress lines and stop signals of the long commands (cli/progress.h). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/common.h>

#include "cli/progress.h"

void hv__cli_progress_init(hv_cli_progress *p, const char *cmd, const char *unit, int mode)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->unit = unit;
    p->tty = isatty(2);
    p->show = mode != 0;
    p->start_ns = p->last_ns = hv_now_ns();
}

void hv__cli_progress_update(hv_cli_progress *p, uint64_t done, uint64_t total)
{
    if (!p->show || total == 0)
        return;
    uint64_t now = hv_now_ns();
    uint64_t every = p->tty ? 100000000ull : 1000000000ull;
    if (done != total && now - p->last_ns < every)
        return;
    p->last_ns = now;
    double el = (double)(now - p->start_ns) / 1e9;
    double rate = el > 0 ? (double)done / el : 0;
    if (p->tty) {
        int w = 40, fill = (int)((double)w * (double)done / (double)total);
        fprintf(stderr, "\r[%.*s%*s] %3.0f%% %" PRIu64 "/%" PRIu64 " %s, %.0f %s/s", fill,
                "########################################", w - fill, "",
                100.0 * (double)done / (double)total, done, total, p->unit, rate, p->unit);
        p->drawn = 1;
        if (done == total)
            hv__cli_progress_break(p);
    } else {
        fprintf(stderr, "hivewire %s: %" PRIu64 "/%" PRIu64 " %s, %.0f %s/s\n", p->cmd, done, total,
                p->unit, rate, p->unit);
    }
}

void hv__cli_progress_break(hv_cli_progress *p)
{
    if (p->drawn)
        fputc('\n', stderr);
    p->drawn = 0;
}

/* ---- Stop signals ----------------------------------------------------------------------------
 */

static volatile sig_atomic_t stop_signal;
static struct sigaction saved_int, saved_term;

static void on_stop_signal(int sig)
{
    if (stop_signal != 0) { /* the second: as if never caught */
        sigaction(SIGINT, &saved_int, NULL);
        sigaction(SIGTERM, &saved_term, NULL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

void hv__cli_stop_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
}

void hv__cli_stop_release(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
}

int hv__cli_stop_signal(void)
{
    return stop_signal;
}

const char *hv__cli_signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig != 0 ? "a signal" : NULL;
}
