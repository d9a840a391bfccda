/*
 * What every swarm agent does whatever its role: it joins the coordinator (registering its
 * vote keys) and repeats its join until welcomed, says it is alive every heartbeat_ns, keeps
 * frames that met backpressure in an outbox and sends them again in order, counts what it
 * received, refused and ignored, and answers STOP with its final report and EXIT by leaving.
 * The role's own work happens in its sw_role_ops (role_*.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/bus.h>
#include <hivewire/rng.h>

#include "core/assert.h"
#include "swarm/swarm_int.h"

#define JOIN_RETRY_FIRST_NS 10000000ull   /* 10 ms, doubling ... */
#define JOIN_RETRY_MAX_NS   1000000000ull /* ... up to 1 s */
#define OUTBOX_RETRY_NS     20000ull      /* first retry after backpressure: 20 us, doubling */
#define OUTBOX_RETRY_MAX_NS 10000000ull   /* ... up to 10 ms */

static const char *const role_names[SW_ROLE_COUNT] = {
    [SW_ROLE_COORD] = "coordinator", [SW_ROLE_MD] = "market-data",    [SW_ROLE_PATTERN] = "pattern",
    [SW_ROLE_RISK] = "risk",         [SW_ROLE_STRATEGY] = "strategy", [SW_ROLE_EXEC] = "execution",
};

const char *hv__sw_role_name(int role)
{
    return role >= 0 && role < SW_ROLE_COUNT ? role_names[role] : "?";
}

uint32_t hv__sw_local_id(int role, uint32_t index)
{
    switch (role) {
    case SW_ROLE_COORD:
        return 1;
    case SW_ROLE_MD:
        return 2;
    case SW_ROLE_STRATEGY:
        return 3;
    case SW_ROLE_RISK:
        return 4;
    case SW_ROLE_EXEC:
        return 5;
    default:
        return 16 + index;
    }
}

int hv__sw_derive_keys(uint64_t seed, uint64_t id, sw_keys *k)
{
    hv_rng rng;
    hv_rng_seed(&rng, seed ^ 0x5377a12dull ^ (id * 0x9e3779b97f4a7c15ull));
    uint8_t s[crypto_sign_SEEDBYTES];
    for (size_t j = 0; j < sizeof(s); j++)
        s[j] = (uint8_t)hv_rng_next(&rng);
    for (size_t j = 0; j < sizeof(k->mac); j++)
        k->mac[j] = (uint8_t)hv_rng_next(&rng);
    int rc = crypto_sign_seed_keypair(k->pk, k->sk, s) == 0 ? 0 : HV_ECRYPTO;
    sodium_memzero(s, sizeof(s));
    return rc;
}

/* ---- Sending ----------------------------------------------------------------------------------
 */

static int outbox_push(sw_agent *a, int kind, const uint8_t *frame, size_t len)
{
    sw_outbox *o = &a->out;
    if (o->n == SW_OUTBOX_MAX || len > SW_FRAME_MAX)
        return HV_EFULL;
    uint32_t at = (o->head + o->n) % SW_OUTBOX_MAX;
    o->q[at].kind = kind;
    o->q[at].len = (uint16_t)len;
    memcpy(o->q[at].frame, frame, len);
    if (o->n++ == 0) {
        o->backoff_ns = OUTBOX_RETRY_NS;
        o->retry_ns = a->actor.last_ns + o->backoff_ns;
    }
    a->rep.retried++;
    return 0;
}

/* Publishes one frame; HV_EFULL (backpressure) is left to the caller. A subject nobody listens
 * to (an agent that left) is counted, not an error: the frame had no receiver. */
static int publish(sw_agent *a, int kind, const uint8_t *frame, size_t len)
{
    int rc = hv__link_publish(a->actor.link, hv__sw_subject(kind), HV_PRIO_NORMAL, frame, len);
    if (rc == HV_ENOSUBSCRIBER) {
        a->rep.undeliverable++;
        return 0;
    }
    if (rc == 0)
        a->rep.sent++;
    return rc;
}

int hv__sw_send_frame(sw_agent *a, int kind, const uint8_t *frame, size_t len)
{
    if (a->out.n > 0) /* keep the order: behind what is already waiting */
        return outbox_push(a, kind, frame, len);
    int rc = publish(a, kind, frame, len);
    return rc == HV_EFULL ? outbox_push(a, kind, frame, len) : rc;
}

int hv__sw_send(sw_agent *a, sw_msg *m)
{
    uint8_t buf[SW_FRAME_MAX];
    m->sender = a->id;
    m->wall_ns = hv__sw_clock(a);
    int n = hv__sw_encode(m, ++a->seq, buf, sizeof(buf));
    if (n < 0)
        return n;
    return hv__sw_send_frame(a, m->kind, buf, (size_t)n);
}

/* Sends what waits in the outbox, oldest first, until backpressure stops it again. */
static int outbox_flush(sw_agent *a, uint64_t now_ns)
{
    sw_outbox *o = &a->out;
    while (o->n > 0) {
        int rc = publish(a, o->q[o->head].kind, o->q[o->head].frame, o->q[o->head].len);
        if (rc == HV_EFULL) {
            o->backoff_ns =
                o->backoff_ns * 2 < OUTBOX_RETRY_MAX_NS ? o->backoff_ns * 2 : OUTBOX_RETRY_MAX_NS;
            o->retry_ns = now_ns + o->backoff_ns;
            return 0;
        }
        if (rc < 0)
            return rc;
        o->head = (o->head + 1) % SW_OUTBOX_MAX;
        o->n--;
    }
    return 0;
}

/* ---- Joining, heartbeats, reports -------------------------------------------------------------
 */

static int send_join(sw_agent *a, uint64_t now_ns)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_JOIN;
    m.cycle = a->env.incarnation;
    m.join.id = a->id;
    m.join.role = (uint32_t)a->env.role;
    m.join.index = a->env.index;
    m.join.auth = (uint8_t)a->env.vote_auth;
    memcpy(m.join.pk, a->keys.pk, sizeof(m.join.pk));
    if (a->env.vote_auth == HV_SWARM_AUTH_MAC) /* the MAC key never leaves the process */
        memcpy(m.join.mac, a->keys.mac, sizeof(m.join.mac));
    a->join_next_ns = now_ns + a->join_backoff_ns;
    a->join_backoff_ns =
        a->join_backoff_ns * 2 < JOIN_RETRY_MAX_NS ? a->join_backoff_ns * 2 : JOIN_RETRY_MAX_NS;
    return hv__sw_send(a, &m);
}

static int send_heartbeat(sw_agent *a, uint64_t now_ns)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_HEARTBEAT;
    m.cycle = a->cycle_seen;
    a->hb_next_ns = now_ns + a->env.cfg.heartbeat_ns;
    return hv__sw_send(a, &m);
}

static int send_report(sw_agent *a, uint64_t now_ns)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_REPORT;
    m.report = a->rep;
    if (a->role->report != NULL) {
        int rc = a->role->report(a, &m.report, now_ns);
        if (rc != 0)
            return rc;
    }
    return hv__sw_send(a, &m);
}

/* Tells the coordinator why this agent fails (best effort), then fails. */
static int fail(sw_agent *a, int rc, int kind)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ERROR;
    m.cycle = a->cycle_seen;
    m.error.code = rc;
    snprintf(m.error.text, sizeof(m.error.text), "%s on %s: %s", a->actor.name,
             hv__sw_subject(kind) ? hv__sw_subject(kind) : "a timer", hv_strerror(rc));
    (void)hv__sw_send(a, &m);
    return rc;
}

/* ---- The actor --------------------------------------------------------------------------------
 */

static sw_agent *agent_of(hv_actor *x)
{
    return (sw_agent *)x;
}

static int subscribe_all(sw_agent *a)
{
    static const int agent_common[] = { SW_WELCOME, SW_STOP, SW_EXIT, 0 };
    int rc = 0;
    for (const int *k = a->role->subs; rc == 0 && *k != 0; k++)
        rc = hv__link_subscribe(a->actor.link, hv__sw_subject(*k));
    if (a->env.role == SW_ROLE_COORD)
        return rc;
    for (const int *k = agent_common; rc == 0 && *k != 0; k++)
        rc = hv__link_subscribe(a->actor.link, hv__sw_subject(*k));
    return rc;
}

static int a_start(hv_actor *x, uint64_t now_ns)
{
    sw_agent *a = agent_of(x);
    int rc = subscribe_all(a);
    if (rc == 0 && a->role->on_start != NULL)
        rc = a->role->on_start(a, now_ns);
    if (rc != 0 || a->env.role == SW_ROLE_COORD)
        return rc;
    a->hb_next_ns = now_ns + a->env.cfg.heartbeat_ns;
    a->join_backoff_ns = JOIN_RETRY_FIRST_NS;
    return send_join(a, now_ns);
}

/* Time never runs backwards at an agent's entry (the runners and the simulator guarantee it). */
static void clock_advance(sw_agent *a, uint64_t now_ns)
{
    HV_ASSERT(now_ns >= a->now_last);
    a->now_last = now_ns;
}

static int a_on_msg(hv_actor *x, const uint8_t *frame, size_t len, uint64_t now_ns)
{
    sw_agent *a = agent_of(x);
    clock_advance(a, now_ns);
    sw_msg m;
    hv_msg hm;
    a->rep.received++;
    int rc = hv__sw_decode(frame, len, &m, &hm);
    if (rc != 0) {
        a->rep.bad++; /* refused and counted: a malformed frame never stops an agent */
        return 0;
    }
    if (a->env.role != SW_ROLE_COORD) {
        switch (m.kind) {
        case SW_WELCOME:
            a->joined |= m.welcome.id == a->id;
            return 0;
        case SW_STOP:
            rc = send_report(a, now_ns);
            return rc == 0 ? 0 : fail(a, rc, m.kind);
        case SW_EXIT:
            x->done = 1;
            return 0;
        default:
            break;
        }
    }
    rc = a->role->on_msg(a, &m, now_ns);
    return rc == 0 ? 0 : fail(a, rc, m.kind);
}

static uint64_t a_next_expiry(const hv_actor *x)
{
    const sw_agent *a = (const sw_agent *)x;
    uint64_t t = a->role->next_expiry ? a->role->next_expiry(a) : UINT64_MAX;
    if (a->out.n > 0 && a->out.retry_ns < t)
        t = a->out.retry_ns;
    if (a->env.role == SW_ROLE_COORD)
        return t;
    if (!a->joined && a->join_next_ns < t)
        t = a->join_next_ns;
    return a->hb_next_ns < t ? a->hb_next_ns : t;
}

static int a_on_expiry(hv_actor *x, uint64_t now_ns)
{
    sw_agent *a = agent_of(x);
    clock_advance(a, now_ns);
    int rc = 0;
    if (a->out.n > 0 && now_ns >= a->out.retry_ns)
        rc = outbox_flush(a, now_ns);
    if (rc == 0 && a->env.role != SW_ROLE_COORD && !a->joined && now_ns >= a->join_next_ns)
        rc = send_join(a, now_ns);
    if (rc == 0 && a->env.role != SW_ROLE_COORD && now_ns >= a->hb_next_ns)
        rc = send_heartbeat(a, now_ns);
    if (rc == 0 && a->role->on_expiry != NULL && a->role->next_expiry(a) <= now_ns)
        rc = a->role->on_expiry(a, now_ns);
    return rc == 0 ? 0 : fail(a, rc, 0);
}

static const hv_actor_ops sw_actor_ops = {
    .start = a_start,
    .on_msg = a_on_msg,
    .on_expiry = a_on_expiry,
    .next_expiry = a_next_expiry,
};

void hv__sw_agent_init(sw_agent *a, const sw_env *env, const sw_role_ops *role)
{
    a->env = *env;
    a->role = role;
    a->id = HV_SWARM_ID(env->cfg.node, hv__sw_local_id(env->role, env->index));
    a->actor.ops = &sw_actor_ops;
    if (env->role == SW_ROLE_PATTERN)
        snprintf(a->actor.name, sizeof(a->actor.name), "pattern-%u", env->index);
    else
        snprintf(a->actor.name, sizeof(a->actor.name), "%s", hv__sw_role_name(env->role));
    a->cycle_seen = UINT64_MAX;
    a->rep.role = (uint32_t)env->role;
    a->rep.index = env->index;
}
