/*
 * The coordinator on the replicated decision log (src/swarm/replicated.h, docs/LOG.md), from
 * the command line: `hivewire run --replicas N --data-dir DIR` (N replicas in the coordinator's
 * process, over mutual TLS on loopback, each keeping its log in DIR/replica-K) and `hivewire
 * coordinator --replica K --peers A,B,C --listen X,Y,Z --data-dir DIR` (replica K in a process
 * of its own: it follows, redirecting agents to the leader, until it leads; then it runs the
 * coordinator, resumed from its log, until the run ends or it stops leading).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "platform/platform.h"
#include "swarm/cli_node.h"
#include "swarm/cli_run.h"
#include "swarm/replicated.h"

/* --snapshot-every, needing the option that starts the replicas of each command */
#define SNAPSHOT_ROW(needed)                                                                  \
    {                                                                                         \
        .name = "snapshot-every", .kind = HV_OPT_U64, HV_OPT_AT(run_opts, snapshot_every),    \
        .umin = 128, .umax = 16777216, .dflt = "4096", .needs = needed, .metavar = "N",       \
        .help = "a replica snapshots its state every N log entries and keeps the N entries "  \
                "before the snapshot (give every replica the same N: docs/LOG.md, \"libraft " \
                "0.15\")"                                                                     \
    }

const hv_opt hv__run_replica_rows[] = {
    { .name = "replicas",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, replicas),
      .umin = 1,
      .umax = 5,
      .needs = "data-dir",
      .metavar = "N",
      .help = "run the coordinator on a replicated decision log of N replicas (3 or 5 to "
              "survive a failure): a decision is published once committed (docs/LOG.md)" },
    { .name = "data-dir",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(run_opts, data_dir),
      .metavar = "DIR",
      .help = "the replicas' logs (DIR/replica-K), certificates (DIR/certs) and addresses; "
              "a directory that holds a run already is refused" },
    SNAPSHOT_ROW("replicas"),
    { 0 },
};

static int attach_process(const run_opts *o, hv_swarm *sw);
static void report_takeover(const run_opts *o, const hv_swarm *sw);

int hv__run_replicas_begin(const run_opts *o, hv_swarm *sw, const hv_bar *bars, size_t n,
                           sw_replicas **out)
{
    *out = NULL;
    if (o->replica != 0)
        return attach_process(o, sw);
    if (o->replicas == 0)
        return 0;
    char certs[4200], err[512];
    snprintf(certs, sizeof(certs), "%s/certs", o->data_dir);
    uint64_t cycles = o->cfg.cycles_max > 0 && o->cfg.cycles_max < n ? o->cfg.cycles_max : n;
    sw_replicas_opts ro = { .n = (uint32_t)o->replicas,
                            .data_dir = o->data_dir,
                            .certs_dir = certs,
                            .node = o->cfg.node,
                            .cfg = &o->cfg,
                            .bars = bars,
                            .nbars = n,
                            .cycles = cycles,
                            .snapshot_threshold = (unsigned)o->snapshot_every,
                            .fresh = 1 };
    int rc = hv__sw_replicas_new(out, &ro, err, sizeof(err));
    if (rc == 0)
        rc = hv__swarm_attach_log(sw, hv__sw_replicas_ops(), *out, hv__sw_replicas_actor(*out));
    if (rc != 0) {
        hv__cli_error("run", "the replicated log: %s", err[0] ? err : hv_strerror(rc));
        hv__sw_replicas_free(*out);
        *out = NULL;
        return HV_EXIT_FAIL;
    }
    return 0;
}

/* What each replica holds once every entry is in: the same chain, state and trades. */
int hv__run_replicas_end(const run_opts *o, sw_replicas *r, const hv_swarm *sw, int ok)
{
    if (o->replica != 0) {
        report_takeover(o, sw);
        return 0;
    }
    if (r == NULL)
        return 0;
    int rc = 0;
    hv__sw_replicas_halt(r);
    if (ok && hv__sw_replicas_settle(r) != 0) {
        hv__cli_error("run", "the replicas did not all apply the log in time");
        rc = HV_EXIT_FAIL;
    }
    hv_swarm_stats st;
    hv_swarm_stats_get(sw, &st);
    FILE *out = o->json ? stderr : stdout; /* --json: stdout holds the document alone */
    for (uint32_t k = 0; k < hv__sw_replicas_count(r); k++) {
        sw_replica_info in;
        hv__sw_replicas_info(r, k, &in);
        char h[65];
        sodium_bin2hex(h, sizeof(h), in.state_hash, 16);
        fprintf(out,
                "replica %u%-9s term %" PRIu64 ", %" PRIu64 " entries, %" PRIu64
                " decisions, trade list hash %016" PRIx64 ", state %s\n",
                k + 1, in.leader ? " (leader)" : "", in.term, in.st.seq, in.st.decisions,
                in.st.trades_hash, h);
        if (ok &&
            (in.st.trades_hash != st.trades_hash || in.st.divergences != 0 || in.st.refused != 0)) {
            hv__cli_error("run",
                          "replica %u's log holds other trades than the run (%" PRIu64
                          " divergences, %" PRIu64 " entries refused)",
                          k + 1, in.st.divergences, in.st.refused);
            rc = HV_EXIT_FAIL;
        }
    }
    fprintf(out, "replicated log  %s/replica-K (hivewire log verify --data-dir %s/replica-1)\n",
            o->data_dir, o->data_dir);
    hv__sw_replicas_free(r);
    return rc;
}

/* ---- coordinator --replica K: one replica in a process of its own ------------------------ */

#define TICK_MS   20u   /* the follower looks at who leads this often */
#define LINGER_MS 1000u /* after the finish: time for the others to learn it committed */

const hv_opt hv__coord_replica_rows[] = {
    { .name = "replica",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, replica),
      .umin = 1,
      .umax = 5,
      .needs = "peers",
      .metavar = "K",
      .help = "this process is replica K (1-based, in --peers's order) of the replicated "
              "decision log: it coordinates only while it leads, redirects agents to the "
              "leader otherwise, and a new leader resumes the run from the log (docs/LOG.md); "
              "--listen then lists every replica's agent address, in the same order" },
    { .name = "peers",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, peers),
      .metavar = "A,B,C",
      .needs = "replica",
      .help = "every replica's Raft address HOST:PORT (3 or 5), mutual TLS with the "
              "certificates replica-K in --certs" },
    { .name = "data-dir",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(run_opts, data_dir),
      .metavar = "DIR",
      .needs = "replica",
      .help = "where replica K keeps its log: DIR/replica-K (made when missing)" },
    SNAPSHOT_ROW("replica"),
    { 0 },
};

typedef struct proc {
    run_opts *o;
    uint32_t k, n;
    hv_net_link_hubs raft, agents; /* the replicas' addresses, parsed */
    sw_replicas *rs;
    hv_net *hub; /* following: agents that connect here are redirected */
    uv_timer_t tick;
    uint64_t peers[HV_SWARM_THREADS_MAX]; /* agents connected to the hub */
    uint32_t npeers;
    uint64_t seq, redirects;
    uint64_t leader, term; /* as last seen */
    int leading, lost_lead, tick_fired;
    char paths[3 * 1024], host[NET_LINK_ADDRESS_MAX];
} proc;

static proc *current_proc; /* the replica of this process (hv__run_replicas_begin attaches it) */

static void on_lead(void *ud, int leading)
{
    proc *p = ud;
    p->leading = leading;
    if (!leading)
        p->lost_lead = 1;
}

static int log_finished(const proc *p)
{
    hv_log_status st;
    hv_log_fsm_status(hv__sw_replicas_fsm(p->rs), &st);
    return st.finished;
}

/* Tells one agent where the leader is: REDIRECT with its agent address. */
static void redirect(proc *p, uint64_t peer)
{
    if (p->leader == 0 || p->leader == p->k || p->hub == NULL)
        return;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_REDIRECT;
    m.sender = HV_SWARM_ID(p->o->cfg.node, hv__sw_local_id(SW_ROLE_COORD, 0));
    m.redirect.replica = p->leader;
    m.redirect.term = p->term;
    snprintf(m.redirect.address, sizeof(m.redirect.address), "%s",
             p->agents.address[p->leader - 1]);
    uint8_t buf[SW_FRAME_MAX];
    int n = hv__sw_encode(&m, ++p->seq, buf, sizeof(buf));
    if (n > 0 && hv_net_send(p->hub, peer, HV_PRIO_NORMAL, buf, (size_t)n) == 0)
        p->redirects++;
}

static void hub_frame(void *user, const hv_net_frame *f, int *verdict)
{
    *verdict = 0; /* a follower coordinates nothing: the frame is answered with the leader */
    redirect(user, f->peer->id);
}

static void hub_peer(void *user, const hv_net_peer *peer, int event, int err)
{
    (void)err;
    proc *p = user;
    uint32_t i = 0;
    while (i < p->npeers && p->peers[i] != peer->id)
        i++;
    if (event == HV_NET_PEER_JOINED && i == p->npeers && p->npeers < HV_SWARM_THREADS_MAX)
        p->peers[p->npeers++] = peer->id;
    else if (event == HV_NET_PEER_LOST && i < p->npeers)
        p->peers[i] = p->peers[--p->npeers];
    if (event == HV_NET_PEER_JOINED)
        redirect(p, peer->id);
}

/* Every TICK_MS while following: who leads; a new leader is told to every agent here. */
static void on_tick(uv_timer_t *t)
{
    proc *p = t->data;
    uint64_t leader, term;
    p->tick_fired = 1;
    hv__sw_replicas_leader(p->rs, &leader, &term);
    if (leader == p->leader)
        return;
    p->leader = leader;
    p->term = term;
    if (leader == 0 || leader == p->k)
        return;
    fprintf(stderr,
            "hivewire coordinator: replica %u follows replica %" PRIu64 " (term %" PRIu64
            "), agents to %s\n",
            p->k, leader, term, p->agents.address[leader - 1]);
    for (uint32_t i = 0; i < p->npeers; i++)
        redirect(p, p->peers[i]);
}

static int open_hub(proc *p)
{
    hv_net_opts no;
    hv__node_net_opts(&no, p->o->certs, "coordinator", p->o->insecure, p->paths, sizeof(p->paths));
    (void)hv__node_host_port(p->agents.address[p->k - 1], p->host, sizeof(p->host), &no.port);
    no.host = p->host;
    no.loop = hv__sw_replicas_loop(p->rs);
    no.on_frame = hub_frame;
    no.on_peer = hub_peer;
    no.user = p;
    p->npeers = 0;
    int rc = hv_net_listen(&no, &p->hub);
    if (rc != 0)
        hv__cli_error("coordinator", "replica %u: cannot listen on %s: %s", p->k,
                      p->agents.address[p->k - 1], hv_net_last_error(NULL));
    return rc;
}

/* Runs the replica's loop (and the hub's, on it) until cond(p) or a stop signal. */
static void run_until_cond(proc *p, int (*cond)(const proc *))
{
    uv_timer_start(&p->tick, on_tick, TICK_MS, TICK_MS);
    while (!cond(p) && hv__cli_stop_signal() == 0)
        uv_run(hv__sw_replicas_loop(p->rs), UV_RUN_ONCE);
    uv_timer_stop(&p->tick);
}

static int leads_or_done(const proc *p)
{
    return p->leading || log_finished(p);
}

/* Follows until this replica leads, the log holds the finished run, or a stop signal. */
static int follow(proc *p)
{
    p->leader = 0;
    int rc = open_hub(p);
    if (rc != 0)
        return rc;
    hv__cli_stop_catch();
    run_until_cond(p, leads_or_done);
    hv__cli_stop_release();
    hv_net_free(p->hub);
    p->hub = NULL;
    return 0;
}

static uint64_t linger_end_ns;

static int lingered(const proc *p)
{
    (void)p;
    return hv_now_ns() >= linger_end_ns;
}

/* This replica's state, as `hivewire log verify` prints it from its directory. */
static void print_replica(const proc *p, int leader)
{
    sw_replica_info in;
    hv__sw_replicas_info(p->rs, p->k - 1, &in);
    char h[65];
    sodium_bin2hex(h, sizeof(h), in.state_hash, 16);
    FILE *out = p->o->json ? stderr : stdout;
    fprintf(out,
            "replica %u%-9s term %" PRIu64 ", %" PRIu64 " entries, %" PRIu64 " decisions, %" PRIu64
            " no quorum, trade list hash %016" PRIx64 ", state %s\n",
            p->k, leader ? " (leader)" : "", in.term, in.st.seq, in.st.decisions, in.st.no_quorum,
            in.st.trades_hash, h);
    fflush(out);
}

static int start(proc *p, const hv_series *bars, char *err, size_t cap)
{
    run_opts *o = p->o;
    if (hv__node_hub_list(o->peers, &p->raft, err, cap) != 0 ||
        hv__node_hub_list(o->listen, &p->agents, err, cap) != 0)
        return HV_EINVAL;
    p->n = p->raft.n;
    p->k = (uint32_t)o->replica;
    if (o->agents != NULL) {
        snprintf(err, cap, "--agents: a replica runs no agent (each agent follows the leader)");
        return HV_EINVAL;
    }
    if (o->data_dir == NULL) {
        snprintf(err, cap, "--replica needs --data-dir");
        return HV_EINVAL;
    }
    if (p->agents.n != p->n || p->k > p->n) {
        snprintf(err, cap,
                 "--peers names %u replicas and --listen %u agent addresses; --replica %u", p->n,
                 p->agents.n, p->k);
        return HV_EINVAL;
    }
    if (o->issue_certs && !o->insecure &&
        hv__node_issue_certs(o->certs, o->cfg.patterns, o->cfg.node, err, cap) != 0)
        return HV_EIO;
    const char *addrs[HV_SW_REPLICAS_MAX];
    for (uint32_t i = 0; i < p->n; i++)
        addrs[i] = p->raft.address[i];
    uint64_t cycles =
        o->cfg.cycles_max > 0 && o->cfg.cycles_max < bars->len ? o->cfg.cycles_max : bars->len;
    sw_replicas_opts ro = { .n = p->n,
                            .data_dir = o->data_dir,
                            .certs_dir = o->certs,
                            .node = o->cfg.node,
                            .cfg = &o->cfg,
                            .bars = bars->bars,
                            .nbars = bars->len,
                            .cycles = cycles,
                            .snapshot_threshold = (unsigned)o->snapshot_every,
                            .self = p->k,
                            .addresses = addrs,
                            .issue_certs = o->issue_certs,
                            .on_lead = on_lead,
                            .ud = p };
    int rc = hv__sw_replicas_new(&p->rs, &ro, err, cap);
    if (rc != 0)
        return rc;
    uv_timer_init(hv__sw_replicas_loop(p->rs), &p->tick);
    p->tick.data = p;
    return 0;
}

static void stop(proc *p)
{
    if (p->rs == NULL)
        return;
    uv_close((uv_handle_t *)&p->tick, NULL);
    hv__sw_replicas_free(p->rs);
    p->rs = NULL;
}

static const char *outcome_name(int outcome)
{
    switch (outcome) {
    case HV_OUTCOME_ACCEPTED:
        return "accepted";
    case HV_OUTCOME_REJECTED:
        return "rejected";
    default:
        return "ended without quorum (NO_QUORUM)";
    }
}

/* The leader's coordinator takes the run of this replica's log over. */
static int attach_process(const run_opts *o, hv_swarm *sw)
{
    proc *p = current_proc;
    int rc = hv__swarm_attach_log(sw, hv__sw_replicas_ops(), p->rs, hv__sw_replicas_actor(p->rs));
    if (rc == 0)
        rc = hv__swarm_resume(sw, hv__sw_replicas_fsm(p->rs), hv__sw_replicas_last_decision(p->rs));
    if (rc != 0) {
        hv__cli_error("coordinator", "replica %u cannot take the run over: %s", p->k,
                      hv_swarm_error(sw)[0] ? hv_swarm_error(sw) : hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    uint64_t leader, term;
    hv__sw_replicas_leader(p->rs, &leader, &term);
    const sw_resume *r = hv__swarm_resumed(sw);
    char where[160];
    if (!r->active)
        snprintf(where, sizeof(where), "the run starts");
    else if (r->open && !r->decided)
        snprintf(where, sizeof(where), "cycle %" PRIu64 " again (its proposal not in the log)",
                 r->cycle);
    else if (r->open && r->pending)
        snprintf(where, sizeof(where),
                 "cycle %" PRIu64 ": decision of proposal %" PRIu64
                 " sent again (its order's result not in the log)",
                 r->cycle, r->decision.proposal_id);
    else if (r->open)
        snprintf(where, sizeof(where), "cycle %" PRIu64 " decided: ended", r->cycle);
    else
        snprintf(where, sizeof(where), "from cycle %" PRIu64,
                 r->cycle == UINT64_MAX ? 0 : r->cycle + 1);
    fprintf(stderr,
            "hivewire coordinator: replica %u leads (term %" PRIu64 "): %u agents registered in "
            "the log; %s\n",
            p->k, term, r->members, where);
    (void)o;
    return 0;
}

/* What became of the proposal a takeover proposed again (named when it had no quorum). */
static void report_takeover(const run_opts *o, const hv_swarm *sw)
{
    const sw_resume *r = hv__swarm_resumed(sw);
    FILE *out = o->json ? stderr : stdout;
    if (!r->active || r->again == 0)
        return;
    if (r->again_outcome < 0)
        fprintf(out, "takeover                 cycle %" PRIu64 " run again, no proposal\n",
                r->cycle);
    else
        fprintf(out, "takeover                 proposal %" PRIu64 " proposed again: %s\n", r->again,
                outcome_name(r->again_outcome));
}

int hv__run_replica_process(run_opts *o, const hv_series *bars, int (*lead)(void *ud), void *ud)
{
    proc p;
    memset(&p, 0, sizeof(p));
    p.o = o;
    char err[512] = "";
    signal(SIGPIPE, SIG_IGN); /* a peer replica that died: its socket's write fails, EPIPE */
    int rc = start(&p, bars, err, sizeof(err));
    if (rc != 0) {
        hv__cli_error("coordinator", "replica %u: %s", (unsigned)o->replica,
                      err[0] ? err : hv_strerror(rc));
        stop(&p);
        return rc == HV_EINVAL ? HV_EXIT_USAGE : HV_EXIT_FAIL;
    }
    current_proc = &p;
    o->listen = p.agents.address[p.k - 1];
    o->issue_certs = 0; /* made once, above */
    fprintf(stderr,
            "hivewire coordinator: replica %u of %u: raft on %s, agents on %s, log in "
            "%s/replica-%u\n",
            p.k, p.n, p.raft.address[p.k - 1], o->listen, o->data_dir, p.k);
    int exit_code = HV_EXIT_OK;
    for (;;) {
        if (follow(&p) != 0) {
            exit_code = HV_EXIT_FAIL;
            break;
        }
        if (log_finished(&p) || hv__cli_stop_signal() != 0)
            break;
        p.lost_lead = 0;
        int lrc = lead(ud);
        if (lrc == 0 || !p.lost_lead) {
            exit_code = lrc;
            break;
        }
        fprintf(stderr, "hivewire coordinator: replica %u stopped leading; it follows again\n",
                p.k);
    }
    if (exit_code == HV_EXIT_OK) { /* the others learn that the finish committed */
        linger_end_ns = hv_now_ns() + LINGER_MS * 1000000ull;
        run_until_cond(&p, lingered);
        print_replica(&p, p.leading);
    }
    current_proc = NULL;
    stop(&p);
    return exit_code;
}
