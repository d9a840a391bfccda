/*
 * The swarm's agents in processes of their own (node.h): roles and names on the network, the
 * hub's role x subject table, and the agent process: the chosen agents of a cast, each on its
 * own net link with its own certificate, driven by one runner until the coordinator's EXIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "swarm/node.h"

uint8_t hv__sw_wire_role(int role)
{
    switch (role) {
    case SW_ROLE_COORD:
        return HV_WIRE_ROLE_COORDINATOR;
    case SW_ROLE_MD:
        return HV_WIRE_ROLE_MARKET_DATA;
    case SW_ROLE_PATTERN:
        return HV_WIRE_ROLE_PATTERN_MATCHER;
    case SW_ROLE_RISK:
        return HV_WIRE_ROLE_RISK;
    case SW_ROLE_STRATEGY:
        return HV_WIRE_ROLE_STRATEGY;
    default:
        return HV_WIRE_ROLE_EXECUTION;
    }
}

void hv__sw_agent_name(int role, uint32_t index, char *out, size_t cap)
{
    if (role == SW_ROLE_PATTERN)
        snprintf(out, cap, "pattern-%u", index);
    else
        snprintf(out, cap, "%s", hv__sw_role_name(role));
}

void hv__sw_slot_role(uint32_t patterns, uint32_t slot, int *role, uint32_t *index)
{
    static const int tail[3] = { SW_ROLE_EXEC, SW_ROLE_RISK, SW_ROLE_STRATEGY };
    *index = 0;
    if (slot == 0)
        *role = SW_ROLE_COORD;
    else if (slot == 1)
        *role = SW_ROLE_MD;
    else if (slot < 2 + patterns) {
        *role = SW_ROLE_PATTERN;
        *index = slot - 2;
    } else {
        *role = tail[(slot - 2 - patterns) % 3];
    }
}

/* ---- The role x subject table
 * -------------------------------------------------------------------- What each role publishes;
 * what it subscribes to is its sw_role_ops.subs plus WELCOME, STOP and EXIT. Every agent also
 * publishes JOIN, HEARTBEAT, REPORT and ERROR. */

static const int publishes[SW_ROLE_COUNT][6] = {
    [SW_ROLE_MD] = { SW_BAR, SW_EOD, 0 },
    [SW_ROLE_PATTERN] = { SW_PRED, SW_VOTE, 0 },
    [SW_ROLE_RISK] = { SW_RISKREP, SW_VOTE, SW_ORDER, SW_ORDER_RESULT, 0 },
    [SW_ROLE_STRATEGY] = { SW_HOLD, SW_PROPOSE, 0 },
    [SW_ROLE_EXEC] = { SW_STATE, SW_ORDER_RESULT, SW_CONFIRM, SW_FINISHED, SW_CURVE, 0 },
};

static const sw_role_ops *role_ops(int role)
{
    switch (role) {
    case SW_ROLE_MD:
        return &hv__sw_md_ops;
    case SW_ROLE_PATTERN:
        return &hv__sw_pattern_ops;
    case SW_ROLE_RISK:
        return &hv__sw_risk_ops;
    case SW_ROLE_STRATEGY:
        return &hv__sw_strategy_ops;
    default:
        return &hv__sw_exec_ops;
    }
}

#define ACL_MAX 96

static hv_net_rule acl_rules[ACL_MAX];
static hv_net_acl acl_table;

static void rule(int role, int kind, int pub)
{
    if (acl_table.count == ACL_MAX)
        return;
    hv_net_rule *r = &acl_rules[acl_table.count++];
    r->role = hv__sw_wire_role(role);
    r->publish = (uint8_t)pub;
    r->subscribe = (uint8_t)!pub;
    r->pattern = hv__sw_subject(kind);
}

static void build_acl(void)
{
    static const int common_pub[] = { SW_JOIN, SW_HEARTBEAT, SW_REPORT, SW_ERROR, 0 };
    static const int common_sub[] = { SW_WELCOME, SW_STOP, SW_EXIT, 0 };
    for (int role = SW_ROLE_MD; role < SW_ROLE_COUNT; role++) {
        for (const int *k = publishes[role]; *k; k++)
            rule(role, *k, 1);
        for (const int *k = role_ops(role)->subs; *k; k++)
            rule(role, *k, 0);
        for (const int *k = common_pub; *k; k++)
            rule(role, *k, 1);
        for (const int *k = common_sub; *k; k++)
            rule(role, *k, 0);
    }
    acl_table.rules = acl_rules;
}

const hv_net_acl *hv__sw_acl(void)
{
    if (acl_table.count == 0)
        build_acl(); /* the table is a pure function of the code: built once, never changed */
    return &acl_table;
}

/* ---- The agent process
 * ------------------------------------------------------------------------------ */

/* The vote key issued with the agent's certificate: <dir>/<name>.vote, the 64-byte Ed25519
 * secret key in hex (hivewire certs issue). */
static int load_vote_key(const char *dir, const char *name, sw_keys *k, char *why, size_t cap)
{
    char path[1024], hex[160];
    snprintf(path, sizeof(path), "%s/%s.vote", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(hex, 1, sizeof(hex) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    hex[n] = 0;
    size_t got = 0;
    if (n < 128 || sodium_hex2bin(k->sk, sizeof(k->sk), hex, n, " \r\n", &got, NULL) != 0 ||
        got != sizeof(k->sk)) {
        snprintf(why, cap, "%s: not a vote key (hivewire certs issue writes it)", path);
        return HV_EIO;
    }
    memcpy(k->pk, k->sk + 32, sizeof(k->pk)); /* libsodium's secret key: seed || public key */
    sodium_memzero(hex, sizeof(hex));
    return 0;
}

static int connect_agent(sw_agent *a, const sw_node_opts *o, hv_net_link *l, char *why, size_t cap)
{
    char name[32], cert[1024], key[1024];
    hv__sw_agent_name(a->env.role, a->env.index, name, sizeof(name));
    hv_net_opts no = o->net;
    if (o->certs_dir != NULL) {
        snprintf(cert, sizeof(cert), "%s/%s.pem", o->certs_dir, name);
        snprintf(key, sizeof(key), "%s/%s.key", o->certs_dir, name);
        no.cert_file = cert;
        no.key_file = key;
        int rc = load_vote_key(o->certs_dir, name, &a->keys, why, cap);
        if (rc != 0)
            return rc;
    }
    no.local_id = a->id;
    no.local_role = hv__sw_wire_role(a->env.role);
    int rc;
    if (o->hubs.n > 0) {
        hv_net_link_hubs hubs = o->hubs;
        hubs.name = a->actor.name;
        hubs.redirect = hv__sw_redirect_of;
        /* the swarm's heartbeat: a hub silent for 3 of them is lost, and a new leader looked for */
        uint64_t hb_ms = a->env.cfg.heartbeat_ns / 1000000;
        no.heartbeat_interval_ms = hb_ms == 0 ? 1 : hb_ms > 60000 ? 60000 : (uint32_t)hb_ms;
        rc = hv__net_link_init_hubs(l, &no, &hubs);
    } else {
        rc = hv__net_link_init(l, &no);
    }
    if (rc != 0) {
        snprintf(why, cap, "%s: cannot connect to %s: %s", name,
                 o->hubs.n > 0 ? o->hubs.address[0] : no.host, hv_net_last_error(NULL));
        return rc;
    }
    a->actor.link = &l->link;
    return 0;
}

int hv__sw_redirect_of(const char *subject, size_t subject_len, const uint8_t *frame, size_t len,
                       char *to, size_t cap)
{
    const char *want = hv__sw_subject(SW_REDIRECT);
    if (subject_len != strlen(want) || memcmp(subject, want, subject_len) != 0)
        return 0;
    sw_msg m;
    hv_msg w;
    to[0] = 0;
    if (hv__sw_decode(frame, len, &m, &w) == 0)
        snprintf(to, cap, "%s", m.redirect.address);
    return 1; /* a malformed one is a redirect to nowhere: ignored */
}

/* A process that starts again (after a crash) must not reuse the frame sequence numbers of
 * the one before: the transport drops a sequence it has seen from that sender. Sequences and
 * the incarnation sent with JOIN start from the wall clock, in microseconds. */
static uint64_t sequence_base(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000u;
}

int hv__sw_agents_run(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n, const sw_node_opts *o,
                      char *why, size_t cap)
{
    why[0] = 0;
    sw_venue venue;
    sw_cast *cast = calloc(1, sizeof(*cast));
    hv_net_link *links = calloc(HV_SWARM_THREADS_MAX, sizeof(*links));
    hv_actor *run[HV_SWARM_THREADS_MAX];
    uint32_t nrun = 0;
    int rc = cast && links ? hv__sw_venue_init(&venue, cfg) : HV_ENOMEM;
    if (rc == 0)
        rc = hv__sw_cast_init(cast, cfg, HV_SWARM_AUTH_SIG, bars, n, &venue, NULL, NULL);
    if (rc == 0)
        hv__sw_cast_other_clocks(cast);
    for (uint32_t i = 1; rc == 0 && i < cast->nactors; i++) {
        if (!(o->local_mask >> i & 1u))
            continue;
        sw_agent *a = (sw_agent *)cast->actors[i];
        a->seq = a->env.incarnation = sequence_base();
        rc = connect_agent(a, o, &links[nrun], why, cap);
        if (rc == 0)
            run[nrun++] = &a->actor;
    }
    if (rc == 0 && nrun == 0) {
        snprintf(why, cap, "no agent to run here");
        rc = HV_EINVAL;
    }
    if (rc == 0) {
        hv_runner_opts ro;
        memset(&ro, 0, sizeof(ro));
        ro.mode = HV_RUNNER_ONE;
        ro.until_all = 1;
        for (uint32_t i = 0; i < HV_RUNNER_ACTORS_MAX; i++)
            ro.cpu[i] = -1;
        hv_runner_stats rs;
        const char *who = NULL;
        rc = hv__runner_run(run, nrun, &ro, &rs, &who);
        if (rc != 0 && why[0] == 0)
            snprintf(why, cap, "%s stopped: %s", who ? who : "an agent", hv_strerror(rc));
    }
    for (uint32_t i = 0; i < nrun; i++)
        hv__net_link_fini(&links[i]);
    if (cast != NULL)
        hv__sw_cast_fini(cast);
    if (cast != NULL && links != NULL)
        hv__sw_venue_fini(&venue);
    free(links);
    free(cast);
    return rc;
}
