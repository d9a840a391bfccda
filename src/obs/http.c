/* The HTTP side (http.h): libmicrohttpd, a thread per connection, reading only the store. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "obs/expo.h"
#include "obs/http.h"

#define EXPO_MAX_BYTES   (8u << 20)
#define SSE_KEEPALIVE_NS 10000000000ull /* a comment line every 10 s on an idle stream */
#define SSE_EVERY_NS                                               \
    250000000ull /* at most 4 events a second per client (the page \
                    redraws at most that often) */

struct hv_obs_http {
    hv_obs_store *store;
    struct MHD_Daemon *d;
    int dashboard;
    uint16_t port;
};

/* ---- Listening ------------------------------------------------------------------------------- */

static int listen_on(const hv_obs_addr *a, int *fd_out, uint16_t *port, char *err, size_t cap)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    int v6 = strchr(a->host, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)a->port);
        inet_pton(AF_INET6, a->host, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)a->port);
        inet_pton(AF_INET, a->host, &s4->sin_addr);
        len = sizeof(*s4);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        snprintf(err, cap, "cannot listen on %s%s%s:%d: %s", v6 ? "[" : "", a->host, v6 ? "]" : "",
                 a->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return HV_EIO;
    }
    *port =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

/* libmicrohttpd's complaints (a client that went away, ...) are not the user's business. */
static void quiet_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

/* ---- Responses --------------------------------------------------------------------------------
 */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (r == NULL) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return respond(c, status, "text/plain; charset=utf-8", (void *)msg, strlen(msg),
                   MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result metrics(hv_obs_http *h, struct MHD_Connection *c)
{
    hv_obs_snap *s = malloc(sizeof(*s));
    if (s == NULL)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    int got = hv__obs_store_read(h->store, 0, 0, s);
    if (got != 1) {
        free(s);
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n");
    }
    hv__obs_store_count_scrape(h->store);
    hv_obs_buf b;
    hv__obs_buf_init(&b, EXPO_MAX_BYTES);
    int rc = hv__obs_expo_write(s, &b);
    free(s);
    if (rc != 0) {
        hv__obs_buf_fini(&b);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too large\n");
    }
    return respond(c, MHD_HTTP_OK, HV_OBS_EXPO_CONTENT_TYPE, b.p, b.len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result state(hv_obs_http *h, struct MHD_Connection *c)
{
    hv_obs_snap *s = malloc(sizeof(*s));
    char *js = NULL;
    hv_obs_cursor cur;
    memset(&cur, 0, sizeof(cur));
    if (s != NULL && hv__obs_store_read(h->store, 0, 0, s) == 1)
        js = hv__obs_state_json(s, &cur);
    free(s);
    if (js == NULL)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n");
    return respond(c, MHD_HTTP_OK, "application/json", js, strlen(js), MHD_RESPMEM_MUST_FREE);
}

/* ---- The event stream ------------------------------------------------------------------------ */

typedef struct sse {
    hv_obs_http *h;
    hv_obs_snap *snap;
    hv_obs_cursor cur;
    uint64_t gen;
    uint64_t sent_ns; /* when the last event went */
    char *out;        /* the event being written */
    size_t len, off;
} sse;

/* Formats the next event (or a keep-alive comment) into s->out. 0, or -1 to end the stream. */
static int next_event(sse *s)
{
    free(s->out);
    s->out = NULL;
    s->len = s->off = 0;
    uint64_t since = hv_now_ns() - s->sent_ns;
    if (s->gen > 0 && since < SSE_EVERY_NS &&
        hv__obs_store_wait_closed(s->h->store, SSE_EVERY_NS - since))
        return -1;
    int got = hv__obs_store_read(s->h->store, s->gen, SSE_KEEPALIVE_NS, s->snap);
    if (got < 0)
        return -1;
    if (got == 0) {
        s->out = strdup(": keep-alive\n\n");
        s->len = s->out ? strlen(s->out) : 0;
        return s->out ? 0 : -1;
    }
    s->gen = s->snap->gen;
    s->sent_ns = hv_now_ns();
    char *js = hv__obs_state_json(s->snap, &s->cur);
    if (js == NULL)
        return -1;
    size_t n = strlen(js) + 64;
    s->out = malloc(n);
    if (s->out != NULL)
        s->len = (size_t)snprintf(s->out, n, "%sid: %llu\nevent: state\ndata: %s\n\n",
                                  s->cur.full_sent == 1 ? "retry: 1000\n" : "",
                                  (unsigned long long)s->gen, js);
    free(js);
    return s->out ? 0 : -1;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse *s = cls;
    if (s->off == s->len && next_event(s) != 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->out + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse *s = cls;
    hv__obs_store_sse(s->h->store, -1);
    free(s->out);
    free(s->snap);
    free(s);
}

static enum MHD_Result events(hv_obs_http *h, struct MHD_Connection *c)
{
    sse *s = calloc(1, sizeof(*s));
    if (s != NULL && (s->snap = malloc(sizeof(*s->snap))) == NULL) {
        free(s);
        s = NULL;
    }
    if (s == NULL)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    s->h = h;
    hv__obs_store_sse(h->store, 1);
    /* Every connection starts with the whole state, so a browser that reconnects (with or
     * without Last-Event-ID) is up to date at once. */
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
    if (r == NULL) {
        sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- Routing --------------------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    hv_obs_http *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (*con_cls == NULL) { /* headers only so far: answer once they are complete */
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0)
        return metrics(h, c);
    if (!h->dashboard)
        return text(c, MHD_HTTP_NOT_FOUND, "not found: this address serves /metrics\n");
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return respond(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)hv__obs_dashboard_html,
                       hv__obs_dashboard_html_len, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/events") == 0)
        return events(h, c);
    if (strcmp(url, "/state") == 0)
        return state(h, c);
    return text(c, MHD_HTTP_NOT_FOUND, "not found: / (the dashboard), /events, /state, /metrics\n");
}

int hv__obs_http_start(hv_obs_store *st, const hv_obs_addr *a, int dashboard, hv_obs_http **out,
                       char *err, size_t cap)
{
    *out = NULL;
    hv_obs_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return HV_ENOMEM;
    h->store = st;
    h->dashboard = dashboard;
    int fd;
    int rc = listen_on(a, &fd, &h->port, err, cap);
    if (rc != 0) {
        free(h);
        return rc;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (strchr(a->host, ':') != NULL)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)HV_OBS_HTTP_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_EXTERNAL_LOGGER,
                            quiet_log, NULL, MHD_OPTION_END);
    if (h->d == NULL) {
        snprintf(err, cap, "cannot start the HTTP server on %s:%d", a->host, a->port);
        close(fd);
        free(h);
        return HV_EIO;
    }
    *out = h;
    return 0;
}

uint16_t hv__obs_http_port(const hv_obs_http *h)
{
    return h->port;
}

void hv__obs_http_stop(hv_obs_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
