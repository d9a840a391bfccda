/*
 * `hivewire certs init|issue` and `hivewire net echo|ping`: certificates for the QUIC
 * transport, and a quick check of a link between two machines (or on loopback).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>
#include <hivewire/hist.h>
#include <hivewire/net.h>

#include "cli/cli.h"
#include "cli/opts.h"

#define CERTS_DIR_DEFAULT "certs"

static int parse_id(const char *s, uint64_t *out)
{
    const char *colon = strchr(s, ':');
    if (colon == NULL)
        return hv__cli_parse_u64(s, out);
    char node[32];
    size_t nl = (size_t)(colon - s);
    if (nl == 0 || nl >= sizeof(node))
        return HV_EINVAL;
    memcpy(node, s, nl);
    node[nl] = 0;
    uint64_t a, b;
    if (hv__cli_parse_u64(node, &a) < 0 || hv__cli_parse_u64(colon + 1, &b) < 0 || a > UINT32_MAX ||
        b > UINT32_MAX)
        return HV_EINVAL;
    *out = a << 32 | b;
    return 0;
}

typedef struct certs_args {
    const char *dir, *name;
    int role;
    uint64_t id;
    int id_given;
} certs_args;

static int apply_id(void *target, const hv_opt *opt, const hv_opt_value *v, char *why, size_t cap)
{
    (void)opt;
    certs_args *a = target;
    if (parse_id(v->s, &a->id) != 0) {
        snprintf(why, cap, "'%s' is not a number or node:local", v->s);
        return -1;
    }
    a->id_given = 1;
    return 0;
}

/* The roles by their wire value (hv_net_role_name()). */
static const hv_opt_choice role_choices[] = {
    { "worker", HV_WIRE_ROLE_WORKER, NULL },
    { "pattern_matcher", HV_WIRE_ROLE_PATTERN_MATCHER, NULL },
    { "strategy_correlator", HV_WIRE_ROLE_STRATEGY_CORRELATOR, NULL },
    { "feature_engineer", HV_WIRE_ROLE_FEATURE_ENGINEER, NULL },
    { "neural_trainer", HV_WIRE_ROLE_NEURAL_TRAINER, NULL },
    { "reasoning_banker", HV_WIRE_ROLE_REASONING_BANKER, NULL },
    { "coordinator", HV_WIRE_ROLE_COORDINATOR, NULL },
    { "market_data", HV_WIRE_ROLE_MARKET_DATA, NULL },
    { "risk", HV_WIRE_ROLE_RISK, NULL },
    { "strategy", HV_WIRE_ROLE_STRATEGY, NULL },
    { "execution", HV_WIRE_ROLE_EXECUTION, NULL },
    { NULL, 0, NULL },
};

#define CERTS_DIR_ROW                                                                          \
    {                                                                                          \
        .name = "dir", .kind = HV_OPT_STRING, .flags = HV_OPT_DIR, HV_OPT_AT(certs_args, dir), \
        .metavar = "DIR", .dflt = CERTS_DIR_DEFAULT,                                           \
        .help = "where ca.pem/ca.key and the issued files live"                                \
    }

static const hv_opt init_rows[] = { CERTS_DIR_ROW, { 0 } };

static const hv_opt issue_rows[] = {
    { .name = "role",
      .kind = HV_OPT_ENUM,
      .flags = HV_OPT_REQUIRED,
      HV_OPT_AT(certs_args, role),
      .choices = role_choices,
      .metavar = "ROLE",
      .help = "the role the certificate carries" },
    { .name = "name",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_REQUIRED,
      HV_OPT_AT(certs_args, name),
      .metavar = "NAME",
      .help = "file names NAME.pem, NAME.key, NAME.vote and the certificate CN" },
    { .name = "id",
      .kind = HV_OPT_STRING,
      .apply = apply_id,
      .metavar = "ID",
      .dflt = "1 for a coordinator, else 2:1",
      .help = "global agent id, (node << 32) | local, or node:local" },
    CERTS_DIR_ROW,
    { 0 },
};

static const hv_opt_section init_sections[] = { { NULL, init_rows, 0 }, { 0 } };
static const hv_opt_section issue_sections[] = { { NULL, issue_rows, 0 }, { 0 } };

static const hv_cli_spec init_spec = {
    .name = "certs init",
    .synopsis = "[--dir DIR]",
    .summary = "make a certificate authority: DIR/ca.pem and DIR/ca.key",
    .about = "Creates an ECDSA P-256 CA (10 years) in DIR; refuses to overwrite one.\n",
    .sections = init_sections,
    .epilog = "Exit status: 0 created, 1 the files could not be made, 2 bad usage.\n",
};

static const hv_cli_spec issue_spec = {
    .name = "certs issue",
    .synopsis = "--role ROLE --name NAME [--id ID] [--dir DIR]",
    .summary = "issue an agent's certificate, key and Ed25519 vote key",
    .about = "Issues DIR/NAME.pem and DIR/NAME.key, signed by the CA in DIR, carrying the id and\n"
             "the role, and a fresh Ed25519 vote key (DIR/NAME.vote) whose public half the\n"
             "certificate carries.\n",
    .sections = issue_sections,
    .epilog = "Exit status: 0 issued, 1 the files could not be made, 2 bad usage.\n",
};

static int cmd_certs_init(int argc, char **argv)
{
    certs_args a = { .dir = CERTS_DIR_DEFAULT };
    void *targets[] = { &a };
    int rc = hv__opts_parse(&init_spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    const char *err = "";
    int rv = hv_net_certs_init(a.dir, &err);
    if (rv < 0) {
        hv__cli_error("certs init", "%s/%s: %s", a.dir, err, hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    printf("created %s/ca.pem and %s/ca.key\n", a.dir, a.dir);
    return HV_EXIT_OK;
}

static int cmd_certs_issue(int argc, char **argv)
{
    certs_args a = { .dir = CERTS_DIR_DEFAULT };
    void *targets[] = { &a };
    int rc = hv__opts_parse(&issue_spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (!a.id_given)
        a.id = a.role == HV_WIRE_ROLE_COORDINATOR ? 1 : (2ull << 32) | 1;
    const char *err = "";
    int rv = hv_net_certs_issue(a.dir, a.name, (uint8_t)a.role, a.id, &err);
    if (rv == HV_EINVAL)
        return hv__opts_usage_error(&issue_spec, "--name: '%s': %s", a.name, err);
    if (rv < 0) {
        hv__cli_error("certs issue", "%s/%s: %s: %s", a.dir, a.name, err, hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    printf("issued %s/%s.pem, %s.key and %s.vote: id %" PRIu64 " (node %" PRIu64 ", local %" PRIu64
           "), role %s\n",
           a.dir, a.name, a.name, a.name, a.id, a.id >> 32, a.id & 0xffffffffu,
           hv_net_role_name(a.role));
    return HV_EXIT_OK;
}

static const hv_cli_sub certs_subs[] = {
    { &init_spec, cmd_certs_init },
    { &issue_spec, cmd_certs_issue },
    { NULL, NULL },
};

static const hv_cli_group certs_group = {
    .name = "certs",
    .about = "Certificates for the QUIC transport: one CA, then a certificate per agent with its\n"
             "id, role and vote key.\n",
    .subs = certs_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_certs = &certs_group;

int hv_cmd_certs(int argc, char **argv);
int hv_cmd_certs(int argc, char **argv)
{
    return hv__opts_dispatch(&certs_group, argc, argv);
}

/* ---- net echo / net ping ----------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct net_cli {
    const char *host;
    uint16_t port;
    const char *dir;
    const char *name;
    int insecure;
    uint64_t count;
    uint64_t size;
    char host_buf[256];
    char ca[512], crt[512], key[512];
} net_cli;

static int apply_hostport(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                          size_t cap)
{
    (void)opt;
    net_cli *c = target;
    const char *s = v->s, *colon = strrchr(s, ':');
    uint64_t p;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(c->host_buf) ||
        hv__cli_parse_u64(colon + 1, &p) < 0 || p == 0 || p > 65535) {
        snprintf(why, cap, "'%s' is not HOST:PORT (a port 1..65535)", s);
        return -1;
    }
    memcpy(c->host_buf, s, (size_t)(colon - s));
    c->host_buf[colon - s] = 0;
    c->host = c->host_buf;
    c->port = (uint16_t)p;
    return 0;
}

#define NET_COMMON_ROWS(who)                                                                   \
    { .name = "certs",                                                                         \
      .kind = HV_OPT_STRING,                                                                   \
      .flags = HV_OPT_DIR,                                                                     \
      HV_OPT_AT(net_cli, dir),                                                                 \
      .metavar = "DIR",                                                                        \
      .dflt = CERTS_DIR_DEFAULT,                                                               \
      .help = "ca.pem and NAME.pem/NAME.key (make them with hivewire certs init and issue)" }, \
        { .name = "name",                                                                      \
          .kind = HV_OPT_STRING,                                                               \
          HV_OPT_AT(net_cli, name),                                                            \
          .metavar = "NAME",                                                                   \
          .dflt = who,                                                                         \
          .help = "the certificate's file name" },                                             \
    {                                                                                          \
        .name = "insecure", .kind = HV_OPT_FLAG, HV_OPT_AT(net_cli, insecure),                 \
        .help = "INSECURE: no TLS verification, no certificates (testing only)"                \
    }

static const hv_opt echo_rows[] = {
    { .name = "listen",
      .kind = HV_OPT_STRING,
      .apply = apply_hostport,
      .metavar = "HOST:PORT",
      .dflt = "127.0.0.1:4433",
      .help = "address to listen on" },
    NET_COMMON_ROWS("hub"),
    { 0 },
};

static const hv_opt ping_rows[] = {
    { .name = "connect",
      .kind = HV_OPT_STRING,
      .apply = apply_hostport,
      .metavar = "HOST:PORT",
      .dflt = "127.0.0.1:4433",
      .help = "the echo server" },
    NET_COMMON_ROWS("agent"),
    { .name = "count",
      .kind = HV_OPT_U64,
      HV_OPT_AT(net_cli, count),
      .umin = 1,
      .umax = 100000000,
      .dflt = "1000",
      .help = "pings, one outstanding" },
    { .name = "size",
      .kind = HV_OPT_U64,
      HV_OPT_AT(net_cli, size),
      .umax = 60000,
      .metavar = "BYTES",
      .dflt = "256",
      .help = "payload bytes per ping" },
    { 0 },
};

static const hv_opt_section echo_sections[] = { { NULL, echo_rows, 0 }, { 0 } };
static const hv_opt_section ping_sections[] = { { NULL, ping_rows, 0 }, { 0 } };

static const hv_cli_spec echo_spec = {
    .name = "net echo",
    .synopsis = "[--listen HOST:PORT] [--certs DIR] [--name NAME] [--insecure]",
    .summary = "a QUIC hub that answers every ping (until Ctrl-C)",
    .sections = echo_sections,
    .epilog = "Exit status: 0 stopped by a signal, 1 could not listen, 2 bad usage.\n",
};

static const hv_cli_spec ping_spec = {
    .name = "net ping",
    .synopsis = "[--connect HOST:PORT] [--count N] [--size BYTES] [options]",
    .summary = "round trips to a net echo over QUIC: p50, p99, max and the QUIC RTT",
    .sections = ping_sections,
    .epilog = "Exit status: 0 every ping answered, 1 no session or a ping unanswered, 2 bad\n"
              "usage.\n",
};

static void net_opts(net_cli *c, hv_net_opts *o, int server)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->host = c->host;
    o->port = c->port;
    if (c->insecure) {
        fprintf(stderr, "hivewire net: INSECURE: TLS verification is off\n");
        o->flags = HV_NET_INSECURE;
        o->local_id = server ? 1 : (2ull << 32) | 1;
        o->local_role = server ? HV_WIRE_ROLE_COORDINATOR : HV_WIRE_ROLE_WORKER;
        return;
    }
    snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", c->dir);
    snprintf(c->crt, sizeof(c->crt), "%s/%s.pem", c->dir, c->name);
    snprintf(c->key, sizeof(c->key), "%s/%s.key", c->dir, c->name);
    o->ca_file = c->ca;
    o->cert_file = c->crt;
    o->key_file = c->key;
}

typedef struct echo_state {
    hv_net *n;
    uint64_t seq;
    uint64_t frames;
} echo_state;

/* Answers every ping with the same bytes on the sender's inbox subject. */
static void echo_frame(void *user, const hv_net_frame *f, int *verdict)
{
    echo_state *e = user;
    hv_frame fr;
    hv_msg m;
    *verdict = 0;
    if (hv_decode(f->frame, f->len, NULL, NULL, 0, &fr, &m) < 0 || m.type != HV_MSG_PUBLISH)
        return;
    char inbox[64];
    snprintf(inbox, sizeof(inbox), "_inbox.%" PRIu64, f->sender_id);
    static uint8_t buf[65536];
    hv_frame rf = { .seq = ++e->seq,
                    .correlation_id = fr.seq,
                    .flags = HV_FLAG_REPLY,
                    .timestamp_ns = fr.timestamp_ns,
                    .sender_id = hv_net_self(e->n)->id,
                    .topic = hv_str_from(inbox) };
    int len = hv_frame_encode(buf, sizeof(buf), &rf, &m, NULL);
    if (len < 0)
        return;
    if (hv_net_send(e->n, f->peer->id, f->prio, buf, (size_t)len) == HV_EFULL) {
        e->seq--;
        *verdict = HV_EFULL; /* offered again when the reply fits */
        return;
    }
    e->frames++;
}

static void echo_peer(void *user, const hv_net_peer *p, int ev, int err)
{
    (void)user;
    static const char *names[] = { "joined", "lost", "refused", "reset" };
    fprintf(stderr, "hivewire net echo: peer %" PRIu64 " (%s, %s) %s%s%s\n", p->id, p->name,
            hv_net_role_name(p->role) ? hv_net_role_name(p->role) : "?", names[ev],
            err < 0 ? ": " : "", err < 0 ? hv_strerror(err) : "");
}

typedef struct ping_state {
    uint64_t want_seq;
    int got;
} ping_state;

static void ping_frame(void *user, const hv_net_frame *f, int *verdict)
{
    ping_state *p = user;
    hv_frame fr;
    *verdict = 0;
    if (hv_frame_parse(f->frame, f->len, NULL, &fr) > 0 && fr.correlation_id == p->want_seq)
        p->got = 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Waits for cond (running the loop), at most timeout_ns; 0 or HV_ETIMEDOUT. */
#define WAIT_FOR(n, cond, timeout_ns)               \
    ({                                              \
        uint64_t t0_ = hv_now_ns();                 \
        int rv_ = 0;                                \
        while (!(cond) && !stop_flag) {             \
            if (hv_now_ns() - t0_ > (timeout_ns)) { \
                rv_ = HV_ETIMEDOUT;                 \
                break;                              \
            }                                       \
            hv_net_run(n, 1);                       \
        }                                           \
        rv_;                                        \
    })

static int net_ping(net_cli *c, hv_net_opts *o)
{
    ping_state p = { 0 };
    o->on_frame = ping_frame;
    o->user = &p;
    hv_net *n;
    if (hv_net_connect(o, &n) < 0) {
        hv__cli_error("net ping", "%s", hv_net_last_error(NULL));
        return 1;
    }
    if (WAIT_FOR(n, hv_net_ready(n), 10000000000ull) < 0) {
        hv__cli_error("net ping", "%s:%u: no session within 10 s%s%s", c->host, (unsigned)c->port,
                      hv_net_last_error(n)[0] ? ": " : "", hv_net_last_error(n));
        hv_net_free(n);
        return 1;
    }
    uint64_t *rtt = calloc(c->count, sizeof(uint64_t));
    uint8_t *buf = malloc(c->size + 256);
    uint8_t *data = calloc(1, c->size + 1);
    if (rtt == NULL || buf == NULL || data == NULL) {
        free(rtt);
        free(buf);
        free(data);
        hv_net_free(n);
        return 1;
    }
    uint64_t me = hv_net_self(n)->id, done = 0;
    int rv = 0;
    for (uint64_t i = 1; i <= c->count && !stop_flag; i++) {
        hv_msg m = { .type = HV_MSG_PUBLISH };
        m.publish.data = (hv_bytes){ data, (uint32_t)c->size };
        uint64_t t0 = hv_now_ns();
        hv_frame f = {
            .seq = i, .timestamp_ns = t0, .sender_id = me, .topic = hv_str_from("net.ping")
        };
        int len = hv_frame_encode(buf, c->size + 256, &f, &m, NULL);
        p.want_seq = i;
        p.got = 0;
        if (len < 0 || hv_net_publish(n, "net.ping", 2, buf, (size_t)len) < 0 ||
            WAIT_FOR(n, p.got, 5000000000ull) < 0) {
            hv__cli_error("net ping", "ping %" PRIu64 ": no answer within 5 s", i);
            rv = 1;
            break;
        }
        rtt[done++] = hv_now_ns() - t0;
    }
    if (done) {
        qsort(rtt, done, sizeof(uint64_t), cmp_u64);
        hv_net_link_stats ls;
        hv_net_link_stats_get(n, 0, &ls);
        printf("%" PRIu64 " pings of %u bytes to %s:%u: rtt p50 %.1f us, p99 %.1f us, max %.1f "
               "us; QUIC srtt %.1f us; %" PRIu64 " datagrams sent, %" PRIu64 " received\n",
               done, (unsigned)c->size, c->host, (unsigned)c->port, rtt[done / 2] / 1e3,
               rtt[(done * 99) / 100] / 1e3, rtt[done - 1] / 1e3, ls.rtt_us, ls.datagrams_sent,
               ls.datagrams_recv);
    }
    free(rtt);
    free(buf);
    free(data);
    hv_net_free(n);
    return rv;
}

/* Parses echo's or ping's options into *c. HV_OPTS_PROCEED or the exit code. */
static int net_parse(const hv_cli_spec *spec, int argc, char **argv, net_cli *c, int server)
{
    *c = (net_cli){ .host = "127.0.0.1",
                    .port = HV_NET_PORT_DEFAULT,
                    .dir = CERTS_DIR_DEFAULT,
                    .name = server ? "hub" : "agent",
                    .count = 1000,
                    .size = 256 };
    void *targets[] = { c };
    return hv__opts_parse(spec, targets, argc, argv, NULL);
}

static int cmd_net_echo(int argc, char **argv)
{
    net_cli c;
    int rv = net_parse(&echo_spec, argc, argv, &c, 1);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    hv_net_opts o;
    net_opts(&c, &o, 1);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    echo_state e = { 0 };
    o.on_frame = echo_frame;
    o.on_peer = echo_peer;
    o.user = &e;
    if (hv_net_listen(&o, &e.n) < 0) {
        hv__cli_error("net echo", "%s", hv_net_last_error(NULL));
        return HV_EXIT_FAIL;
    }
    fprintf(stderr, "hivewire net echo: listening on %s:%u (QUIC, ALPN %s)\n", c.host,
            (unsigned)hv_net_port(e.n), HV_NET_ALPN);
    while (!stop_flag) {
        hv_net_run(e.n, 100);
        hv_net_resume(e.n);
    }
    fprintf(stderr, "hivewire net echo: %" PRIu64 " frames echoed\n", e.frames);
    hv_net_free(e.n);
    return HV_EXIT_OK;
}

static int cmd_net_ping(int argc, char **argv)
{
    net_cli c;
    int rv = net_parse(&ping_spec, argc, argv, &c, 0);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    hv_net_opts o;
    net_opts(&c, &o, 0);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    return net_ping(&c, &o);
}

static const hv_cli_sub net_subs[] = {
    { &echo_spec, cmd_net_echo },
    { &ping_spec, cmd_net_ping },
    { NULL, NULL },
};

static const hv_cli_group net_group = {
    .name = "net",
    .about = "A quick check of a QUIC link between two hosts (or on loopback): run net echo on\n"
             "one, net ping on the other.\n",
    .subs = net_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_net = &net_group;

int hv_cmd_net(int argc, char **argv);
int hv_cmd_net(int argc, char **argv)
{
    return hv__opts_dispatch(&net_group, argc, argv);
}
