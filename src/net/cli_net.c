/*
 * `hivewire certs init|issue` and `hivewire net echo|ping`: certificates for the QUIC
 * transport, and a quick check of a link between two machines (or on loopback).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>
#include <hivewire/hist.h>
#include <hivewire/net.h>

#include "cli/cli.h"

#define CERTS_DIR_DEFAULT "certs"

static void certs_usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire certs init [--dir DIR]\n"
            "       hivewire certs issue --role ROLE --name NAME [--id ID] [--dir DIR]\n"
            "  --dir DIR   where ca.pem/ca.key and the issued files live (default: certs)\n"
            "  --role ROLE worker, pattern_matcher, strategy_correlator, feature_engineer,\n"
            "              neural_trainer, reasoning_banker, coordinator, market_data, risk,\n"
            "              strategy, execution\n"
            "  --name NAME file names NAME.pem, NAME.key, NAME.vote and the certificate CN\n"
            "  --id ID     global agent id, (node << 32) | local, or node:local (default: 1 for\n"
            "              a coordinator, else 2:1)\n");
}

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

int hv_cmd_certs(int argc, char **argv);
int hv_cmd_certs(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        certs_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    const char *dir = CERTS_DIR_DEFAULT, *role = NULL, *name = NULL, *id_s = NULL;
    static const struct option lo[] = { { "dir", 1, 0, 'd' },  { "role", 1, 0, 'r' },
                                        { "name", 1, 0, 'n' }, { "id", 1, 0, 'i' },
                                        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'i':
            id_s = optarg;
            break;
        case 'h':
            certs_usage(stdout);
            return 0;
        default:
            certs_usage(stderr);
            return 2;
        }
    }
    const char *err = "";
    if (strcmp(sub, "init") == 0) {
        int rv = hv_net_certs_init(dir, &err);
        if (rv < 0) {
            hv__cli_error("certs", "%s/%s: %s", dir, err, hv_strerror(rv));
            return 1;
        }
        printf("created %s/ca.pem and %s/ca.key\n", dir, dir);
        return 0;
    }
    if (strcmp(sub, "issue") != 0) {
        hv__cli_error("certs", "unknown subcommand '%s' (init, issue)", sub);
        return 2;
    }
    if (role == NULL || name == NULL) {
        hv__cli_error("certs", "issue needs --role and --name");
        return 2;
    }
    int r = hv_net_role_from_name(role);
    if (r < 0) {
        hv__cli_error("certs", "--role %s: unknown role (see --help)", role);
        return 2;
    }
    uint64_t id = r == HV_WIRE_ROLE_COORDINATOR ? 1 : (2ull << 32) | 1;
    if (id_s && parse_id(id_s, &id) < 0) {
        hv__cli_error("certs", "--id %s: expected a number or node:local", id_s);
        return 2;
    }
    int rv = hv_net_certs_issue(dir, name, (uint8_t)r, id, &err);
    if (rv < 0) {
        hv__cli_error("certs", "%s/%s: %s: %s", dir, name, err, hv_strerror(rv));
        return rv == HV_EINVAL ? 2 : 1;
    }
    printf("issued %s/%s.pem, %s.key and %s.vote: id %" PRIu64 " (node %" PRIu64 ", local %" PRIu64
           "), role %s\n",
           dir, name, name, name, id, id >> 32, id & 0xffffffffu, role);
    return 0;
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
    uint32_t size;
    char ca[512], crt[512], key[512];
} net_cli;

static void net_usage(FILE *f)
{
    fprintf(
        f,
        "usage: hivewire net echo [--listen HOST:PORT] [--certs DIR] [--name NAME] [--insecure]\n"
        "       hivewire net ping [--connect HOST:PORT] [--certs DIR] [--name NAME] [--count N]\n"
        "                         [--size BYTES] [--insecure]\n"
        "  --listen/--connect  default 127.0.0.1:%d\n"
        "  --certs DIR         ca.pem and NAME.pem/NAME.key (default: certs; make them with\n"
        "                      `hivewire certs init` and `hivewire certs issue`)\n"
        "  --name NAME         echo: hub, ping: agent\n"
        "  --count N           pings, one outstanding (default 1000)\n"
        "  --size BYTES        payload bytes per ping (default 256)\n"
        "  --insecure          INSECURE: no TLS verification, no certificates (testing only)\n",
        HV_NET_PORT_DEFAULT);
}

static int parse_hostport(const char *s, net_cli *c)
{
    static char host[256];
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host))
        return HV_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    uint64_t p;
    if (hv__cli_parse_u64(colon + 1, &p) < 0 || p == 0 || p > 65535)
        return HV_EINVAL;
    c->host = host;
    c->port = (uint16_t)p;
    return 0;
}

static int net_parse(int argc, char **argv, net_cli *c, int server)
{
    *c = (net_cli){ .host = "127.0.0.1",
                    .port = HV_NET_PORT_DEFAULT,
                    .dir = CERTS_DIR_DEFAULT,
                    .name = server ? "hub" : "agent",
                    .count = 1000,
                    .size = 256 };
    static const struct option lo[] = {
        { "listen", 1, 0, 'l' },   { "connect", 1, 0, 'c' }, { "certs", 1, 0, 'd' },
        { "name", 1, 0, 'n' },     { "count", 1, 0, 'k' },   { "size", 1, 0, 's' },
        { "insecure", 0, 0, 'I' }, { "help", 0, 0, 'h' },    { 0, 0, 0, 0 }
    };
    optind = 2;
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'l':
        case 'c':
            if (parse_hostport(optarg, c) < 0) {
                hv__cli_error("net", "%s: expected HOST:PORT", optarg);
                return 2;
            }
            break;
        case 'd':
            c->dir = optarg;
            break;
        case 'n':
            c->name = optarg;
            break;
        case 'k':
            if (hv__cli_parse_u64(optarg, &c->count) < 0 || c->count == 0) {
                hv__cli_error("net", "--count %s: expected a positive number", optarg);
                return 2;
            }
            break;
        case 's':
            if (hv__cli_parse_u64(optarg, &v) < 0 || v > 60000) {
                hv__cli_error("net", "--size %s: expected 0..60000", optarg);
                return 2;
            }
            c->size = (uint32_t)v;
            break;
        case 'I':
            c->insecure = 1;
            break;
        case 'h':
            net_usage(stdout);
            return 0;
        default:
            net_usage(stderr);
            return 2;
        }
    }
    return -1;
}

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
        hv__cli_error("net", "%s", hv_net_last_error(NULL));
        return 1;
    }
    if (WAIT_FOR(n, hv_net_ready(n), 10000000000ull) < 0) {
        hv__cli_error("net", "%s:%u: no session within 10 s%s%s", c->host, (unsigned)c->port,
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
        m.publish.data = (hv_bytes){ data, c->size };
        uint64_t t0 = hv_now_ns();
        hv_frame f = {
            .seq = i, .timestamp_ns = t0, .sender_id = me, .topic = hv_str_from("net.ping")
        };
        int len = hv_frame_encode(buf, c->size + 256, &f, &m, NULL);
        p.want_seq = i;
        p.got = 0;
        if (len < 0 || hv_net_publish(n, "net.ping", 2, buf, (size_t)len) < 0 ||
            WAIT_FOR(n, p.got, 5000000000ull) < 0) {
            hv__cli_error("net", "ping %" PRIu64 ": no answer within 5 s", i);
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
               done, c->size, c->host, (unsigned)c->port, rtt[done / 2] / 1e3,
               rtt[(done * 99) / 100] / 1e3, rtt[done - 1] / 1e3, ls.rtt_us, ls.datagrams_sent,
               ls.datagrams_recv);
    }
    free(rtt);
    free(buf);
    free(data);
    hv_net_free(n);
    return rv;
}

int hv_cmd_net(int argc, char **argv);
int hv_cmd_net(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        net_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int server = strcmp(argv[1], "echo") == 0;
    if (!server && strcmp(argv[1], "ping") != 0) {
        hv__cli_error("net", "unknown subcommand '%s' (echo, ping)", argv[1]);
        return 2;
    }
    net_cli c;
    int rv = net_parse(argc, argv, &c, server);
    if (rv >= 0)
        return rv;
    hv_net_opts o;
    net_opts(&c, &o, server);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    if (server) {
        echo_state e = { 0 };
        o.on_frame = echo_frame;
        o.on_peer = echo_peer;
        o.user = &e;
        if (hv_net_listen(&o, &e.n) < 0) {
            hv__cli_error("net", "%s", hv_net_last_error(NULL));
            return 1;
        }
        fprintf(stderr, "hivewire net echo: listening on %s:%u (QUIC, ALPN %s)\n", c.host,
                (unsigned)hv_net_port(e.n), HV_NET_ALPN);
        while (!stop_flag) {
            hv_net_run(e.n, 100);
            hv_net_resume(e.n);
        }
        fprintf(stderr, "hivewire net echo: %" PRIu64 " frames echoed\n", e.frames);
        hv_net_free(e.n);
        return 0;
    }
    return net_ping(&c, &o);
}
