/* Headless Chromium over the DevTools pipe, for tests (cdp.h). */
#include "cdp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

int64_t hv_cdp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int start(hv_cdp *c, int width, int height)
{
    snprintf(c->dir, sizeof(c->dir), "/tmp/hv-chromium-XXXXXX");
    if (mkdtemp(c->dir) == NULL) {
        snprintf(c->err, sizeof(c->err), "mkdtemp: %s", strerror(errno));
        return -1;
    }
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        snprintf(c->err, sizeof(c->err), "pipe: %s", strerror(errno));
        return -1;
    }
    char udd[128], size[64];
    snprintf(udd, sizeof(udd), "--user-data-dir=%s", c->dir);
    snprintf(size, sizeof(size), "--window-size=%d,%d", width, height);
    c->pid = fork();
    if (c->pid == 0) {
        /* fd 3: what Chromium reads; fd 4: what it writes */
        int r = dup(in[0]), w = dup(out[1]);
        dup2(r, 3);
        dup2(w, 4);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        execl(HV_CDP_CHROMIUM, HV_CDP_CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--allow-file-access-from-files",
              "--remote-debugging-pipe", size, udd, "about:blank", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = in[1];
    c->from = out[0];
    signal(SIGPIPE, SIG_IGN);
    if (c->pid < 0)
        snprintf(c->err, sizeof(c->err), "fork: %s", strerror(errno));
    return c->pid > 0 ? 0 : -1;
}

json_t *hv_cdp_call(hv_cdp *c, int in_session, const char *method, json_t *params, int ms)
{
    int id = ++c->next_id;
    json_t *m = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
                          params ? params : json_object());
    if (in_session)
        json_object_set_new(m, "sessionId", json_string(c->session));
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    size_t n = strlen(s) + 1; /* the NUL ends the message */
    ssize_t w = write(c->to, s, n);
    free(s);
    if (w != (ssize_t)n) {
        snprintf(c->err, sizeof(c->err), "cannot write to chromium: %s", strerror(errno));
        return NULL;
    }
    int64_t end = hv_cdp_now_ms() + ms;
    for (;;) {
        char *nul = c->len ? memchr(c->buf, 0, c->len) : NULL;
        if (nul != NULL) {
            json_t *r = json_loads(c->buf, 0, NULL);
            size_t used = (size_t)(nul - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            json_t *rid = r ? json_object_get(r, "id") : NULL;
            if (rid != NULL && json_integer_value(rid) == id) {
                json_t *res = json_incref(json_object_get(r, "result"));
                if (res == NULL)
                    snprintf(
                        c->err, sizeof(c->err), "%s failed: %s", method,
                        json_string_value(json_object_get(json_object_get(r, "error"), "message")));
                json_decref(r);
                return res;
            }
            json_decref(r); /* an event, or a late reply */
            continue;
        }
        int64_t left = end - hv_cdp_now_ms();
        struct pollfd p = { .fd = c->from, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            snprintf(c->err, sizeof(c->err), "%s: no answer within %d ms", method, ms);
            return NULL;
        }
        if (c->len + 65536 > c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 1 << 20;
            char *nb = realloc(c->buf, cap);
            if (nb == NULL) {
                snprintf(c->err, sizeof(c->err), "out of memory");
                return NULL;
            }
            c->buf = nb;
            c->cap = cap;
        }
        ssize_t r = read(c->from, c->buf + c->len, c->cap - c->len);
        if (r <= 0) {
            snprintf(c->err, sizeof(c->err), "chromium closed the pipe (%s)", method);
            return NULL;
        }
        c->len += (size_t)r;
    }
}

int hv_cdp_open(hv_cdp *c, int width, int height)
{
    memset(c, 0, sizeof(*c));
    c->pid = -1;
    if (access(HV_CDP_CHROMIUM, X_OK) != 0) {
        snprintf(c->err, sizeof(c->err), "%s is not installed (scripts/install-deps installs it)",
                 HV_CDP_CHROMIUM);
        return -1;
    }
    if (start(c, width, height) != 0)
        return -1;
    json_t *r =
        hv_cdp_call(c, 0, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), 60000);
    if (r == NULL)
        return -1;
    json_t *a = hv_cdp_call(
        c, 0, "Target.attachToTarget",
        json_pack("{s:O, s:b}", "targetId", json_object_get(r, "targetId"), "flatten", 1), 30000);
    json_decref(r);
    if (a == NULL)
        return -1;
    snprintf(c->session, sizeof(c->session), "%s",
             json_string_value(json_object_get(a, "sessionId")));
    json_decref(a);
    json_decref(hv_cdp_call(c, 1, "Emulation.setDeviceMetricsOverride",
                            json_pack("{s:i, s:i, s:i, s:b}", "width", width, "height", height,
                                      "deviceScaleFactor", 1, "mobile", 0),
                            10000));
    return 0;
}

char *hv_cdp_eval(hv_cdp *c, const char *expr, int ms)
{
    json_t *r = hv_cdp_call(
        c, 1, "Runtime.evaluate",
        json_pack("{s:s, s:b, s:b}", "expression", expr, "awaitPromise", 1, "returnByValue", 1),
        ms);
    if (r == NULL)
        return NULL;
    const char *v = json_string_value(json_object_get(json_object_get(r, "result"), "value"));
    char *out = v ? strdup(v) : NULL;
    if (out == NULL) {
        char *dump = json_dumps(r, JSON_COMPACT);
        snprintf(c->err, sizeof(c->err), "evaluation gave no string (%s)", dump ? dump : "?");
        free(dump);
    }
    json_decref(r);
    return out;
}

int hv_cdp_navigate(hv_cdp *c, const char *url, int ms)
{
    json_t *nav = hv_cdp_call(c, 1, "Page.navigate", json_pack("{s:s}", "url", url), ms);
    if (nav == NULL)
        return -1;
    json_decref(nav);
    /* the evaluation fails while the old document is replaced: ask again until it answers */
    static const char *const loaded =
        "new Promise((r) => { if (document.readyState === 'complete' && "
        "location.href !== 'about:blank') r('loaded'); else addEventListener('load', () => "
        "r('loaded')); })";
    int64_t end = hv_cdp_now_ms() + ms;
    while (hv_cdp_now_ms() < end) {
        char *s = hv_cdp_eval(c, loaded, (int)(end - hv_cdp_now_ms()));
        int ok = s != NULL && strcmp(s, "loaded") == 0;
        free(s);
        if (ok)
            return 0;
    }
    snprintf(c->err, sizeof(c->err), "%s did not load within %d ms", url, ms);
    return -1;
}

long hv_cdp_screenshot(hv_cdp *c, const char *path)
{
    json_t *r =
        hv_cdp_call(c, 1, "Page.captureScreenshot",
                    json_pack("{s:s, s:b}", "format", "png", "captureBeyondViewport", 1), 60000);
    if (r == NULL)
        return -1;
    const char *b64 = json_string_value(json_object_get(r, "data"));
    size_t cap = b64 ? strlen(b64) : 0, n = 0;
    unsigned char *png = cap ? malloc(cap) : NULL;
    long size = -1;
    if (png != NULL &&
        sodium_base642bin(png, cap, b64, cap, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ==
            0 &&
        n > 8 && memcmp(png, "\x89PNG", 4) == 0) {
        FILE *f = fopen(path, "wb");
        if (f != NULL && fwrite(png, 1, n, f) == n && fclose(f) == 0)
            size = (long)n;
        else if (f != NULL)
            fclose(f);
    }
    if (size < 0)
        snprintf(c->err, sizeof(c->err), "no PNG written to %s", path);
    free(png);
    json_decref(r);
    return size;
}

void hv_cdp_close(hv_cdp *c)
{
    if (c->pid > 0) {
        json_decref(hv_cdp_call(c, 0, "Browser.close", NULL, 5000));
        close(c->to);
        close(c->from);
        int status;
        int pfd = (int)syscall(SYS_pidfd_open, c->pid, 0); /* readable once the browser exited */
        if (pfd >= 0) {
            struct pollfd p = { .fd = pfd, .events = POLLIN };
            poll(&p, 1, 10000);
            close(pfd);
        }
        if (waitpid(c->pid, &status, WNOHANG) == 0) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
        }
    }
    free(c->buf);
    c->buf = NULL;
    if (c->dir[0]) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", c->dir);
    }
    c->pid = -1;
}
