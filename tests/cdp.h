/*
 * Test helper: headless Chromium (Debian `chromium`) driven over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), for the tests that check a page
 * in a real browser (the live dashboard, the run report). Every wait is bounded and waits on
 * the browser's answer (poll on the pipe), never a sleep.
 */
#ifndef HV_TESTS_CDP_H
#define HV_TESTS_CDP_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define HV_CDP_CHROMIUM "/usr/bin/chromium"

typedef struct hv_cdp {
    pid_t pid;
    int to, from; /* our ends: commands to Chromium, replies and events from it */
    char *buf;
    size_t len, cap;
    int next_id;
    char session[128];
    char err[512];
    char dir[64];
} hv_cdp;

/* Milliseconds on the monotonic clock. */
int64_t hv_cdp_now_ms(void);

/* Starts Chromium and attaches to a new blank page of width x height CSS pixels. 0, or -1 with
 * c->err saying why (Chromium missing or unable to start here: the caller skips, saying so). */
int hv_cdp_open(hv_cdp *c, int width, int height);

/* Sends one command (in the page's session when in_session); returns its "result" (a new
 * reference) or NULL with c->err set. params is stolen (NULL: none). */
json_t *hv_cdp_call(hv_cdp *c, int in_session, const char *method, json_t *params, int ms);

/* Loads url in the page and waits (up to ms) until its document has loaded. 0 or -1. */
int hv_cdp_navigate(hv_cdp *c, const char *url, int ms);

/* Evaluates an expression (a promise is awaited) in the page; its string value (malloc'd), or
 * NULL with c->err set. */
char *hv_cdp_eval(hv_cdp *c, const char *expr, int ms);

/* Saves a PNG of the whole page (beyond the viewport) at path. Returns its size in bytes, or
 * -1 with c->err set. */
long hv_cdp_screenshot(hv_cdp *c, const char *path);

/* Closes the browser, reaps it and removes its profile directory. */
void hv_cdp_close(hv_cdp *c);

#ifdef skip /* in a cmocka test (hv_test.h first) */
/* A browser on a blank page (the caller closes and frees it), or the test is skipped, saying
 * why Chromium cannot start here. */
static inline hv_cdp *hv_cdp_open_or_skip(int width, int height)
{
    hv_cdp *c = calloc(1, sizeof(*c));
    if (c != NULL && hv_cdp_open(c, width, height) == 0)
        return c;
    fprintf(stderr, "skipping: chromium cannot start here: %s\n", c ? c->err : "out of memory");
    if (c != NULL)
        hv_cdp_close(c);
    free(c);
    skip();
    return NULL;
}
#endif

#endif /* HV_TESTS_CDP_H */
