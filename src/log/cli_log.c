/*
 * `hivewire log show|verify --data-dir DIR`: a replica's decision log as stored on disk, read
 * without libraft and without writing anything (docs/LOG.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "log/log_int.h"

typedef struct log_args {
    const char *dir;
} log_args;

static const hv_opt log_rows[] = {
    { .name = "data-dir",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_REQUIRED | HV_OPT_DIR,
      HV_OPT_AT(log_args, dir),
      .metavar = "DIR",
      .help = "a replica's raft_uv data directory (hivewire coordinator --data-dir)" },
    { .name = NULL },
};

static const hv_opt_section log_sections[] = { { NULL, log_rows, 0 }, { 0 } };

static const hv_cli_spec show_spec = {
    .name = "log show",
    .synopsis = "--data-dir DIR",
    .summary = "print every entry of a replica's decision log and the state it leads to",
    .sections = log_sections,
};

static const hv_cli_spec verify_spec = {
    .name = "log verify",
    .synopsis = "--data-dir DIR",
    .summary = "check a replica's decision log: checksums, no gap, the hash chain, no repeated "
               "proposal id",
    .sections = log_sections,
    .epilog = "Exit status: 0 the log verifies; 1 a problem (each printed with its entry, file "
              "and byte) or an unreadable directory; 2 bad usage.\n",
};

static void hex(const uint8_t *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

static const char *outcome_name(int o)
{
    static const char *const names[] = { "pending", "accepted", "rejected", "no quorum" };
    return (unsigned)o < 4 ? names[o] : "?";
}

static void describe(const hv_log_entry *e, char *out, size_t cap)
{
    switch (e->type) {
    case HV_LOG_GENESIS:
        snprintf(out, cap, "cycles %" PRIu64 ", %.0f s a bar, cash %.2f, exchange seed %" PRIu64,
                 e->genesis.cycles_max, (double)e->genesis.bar_ns / 1e9, e->genesis.cash,
                 e->genesis.exchange.seed);
        break;
    case HV_LOG_MEMBER:
        snprintf(out, cap, "agent %" PRIu64 ":%" PRIu64 " role %u index %u incarnation %" PRIu64,
                 e->member.id >> 32, e->member.id & 0xffffffffu, e->member.role, e->member.index,
                 e->member.incarnation);
        break;
    case HV_LOG_CYCLE:
        snprintf(out, cap, "cycle %" PRIu64 " begins: close %.4f volume %.0f", e->cycle.cycle,
                 e->cycle.bar.close, e->cycle.bar.volume);
        break;
    case HV_LOG_CYCLE_END:
        snprintf(out, cap, "cycle %" PRIu64 " %s", e->end.cycle,
                 e->end.how == HV_LOG_END_STALLED ? "stalled" : "done");
        break;
    case HV_LOG_DECISION: {
        const hv_log_decision *d = &e->decision;
        snprintf(out, cap,
                 "proposal %" PRIu64 " (cycle %" PRIu64 "): %s, %u for %u against %u abstain "
                 "of %u; %s %" PRId64 " @ %.4f; %u votes",
                 d->d.proposal_id, d->cycle, outcome_name(d->d.outcome), d->d.approvals,
                 d->d.rejections, d->d.abstentions, d->d.eligible,
                 d->order.side == HV_SIDE_BUY ? "buy" : "sell", d->order.qty, d->order.ref_price,
                 d->nvotes);
        break;
    }
    case HV_LOG_RESULT:
        if (e->result.rc == 0)
            snprintf(out, cap, "proposal %" PRIu64 ": order %" PRIu64 " submitted",
                     e->result.proposal_id, e->result.order_id);
        else
            snprintf(out, cap, "proposal %" PRIu64 ": refused, %s", e->result.proposal_id,
                     hv_strerror(e->result.rc));
        break;
    default:
        snprintf(out, cap, "the run is over after %" PRIu64 " cycles", e->finish.cycles);
        break;
    }
}

static void show_entry(void *ud, const hv_log_store_entry *se, const hv_log_entry *e, int rc)
{
    (void)ud;
    char what[256];
    if (se->type != RAFT_COMMAND) {
        printf("%8" PRIu64 " t%-4" PRIu64 " %-9s\n", se->index, se->term,
               se->type == RAFT_BARRIER ? "barrier" : "config");
        return;
    }
    if (e == NULL) {
        printf("%8" PRIu64 " t%-4" PRIu64 " %-9s %s\n", se->index, se->term, "?", hv_strerror(rc));
        return;
    }
    describe(e, what, sizeof(what));
    printf("%8" PRIu64 " t%-4" PRIu64 " %-9s #%-7" PRIu64 " %s%s%s\n", se->index, se->term,
           hv_log_type_name(e->type), e->seq, what, rc ? "  REFUSED: " : "",
           rc ? hv_strerror(rc) : "");
}

static void print_problem(void *ud, const char *line)
{
    fprintf(stderr, "hivewire log verify: %s: %s\n", (const char *)ud, line);
}

static void summary(const char *dir, const hv_log_verify_report *r)
{
    const hv_log_store_info *s = &r->store;
    const hv_log_status *st = &r->status;
    char head[65], state[65];
    hex(st->head, 32, head);
    hex(r->state_hash, 32, state);
    printf("data dir        %s\n", dir);
    printf("raft            term %" PRIu64 ", voted for %" PRIu64 "\n", s->term, s->voted_for);
    if (s->snapshot)
        printf("snapshot        entry %" PRIu64 " (term %" PRIu64 "), chain position %" PRIu64 "\n",
               s->snap_index, s->snap_term, r->snap_status.seq);
    else
        printf("snapshot        none\n");
    printf("entries         %" PRIu64 " in %" PRIu64 " segments (%" PRIu64 "..%" PRIu64
           "): %" PRIu64 " log, %" PRIu64 " barriers, %" PRIu64 " configurations\n",
           s->entries, s->segments, s->first_index, s->last_index, r->commands, r->barriers,
           r->configs);
    if (s->torn_bytes)
        printf("torn tail       %zu bytes at byte %zu of %s (a write cut short: not an entry)\n",
               s->torn_bytes, s->torn_at, s->torn_file);
    printf("chain           %" PRIu64 " entries, head %s\n", st->seq, head);
    printf("cycles          last %" PRId64 "%s, %" PRIu64 " done, %" PRIu64 " stalled%s\n",
           st->cycle_last == UINT64_MAX ? (int64_t)-1 : (int64_t)st->cycle_last,
           st->cycle_open ? " (open)" : "", st->cycles_done, st->cycles_stalled,
           st->finished ? ", finished" : "");
    printf("decisions       %" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64
           ", no quorum %" PRIu64 "), %" PRIu64 " votes\n",
           st->decisions, st->accepted, st->rejected, st->no_quorum, st->votes);
    printf("orders          %" PRIu64 " results: %" PRIu64 " sent, %" PRIu64
           " refused by limits, %" PRIu64 " by the kill switch, %" PRIu64
           " by the exchange; %" PRIu64 " waiting\n",
           st->results, st->orders_sent, st->refused_limit, st->refused_halt, st->refused_exchange,
           (uint64_t)st->pending);
    printf("venue           %" PRIu64 " fills, position %" PRId64 ", cash %.2f, equity %.2f\n",
           st->fills, st->position, st->cash, st->equity);
    printf("trade list hash %016" PRIx64 "\n", st->trades_hash);
    printf("divergences     %" PRIu64 ", late results %" PRIu64 ", refused entries %" PRIu64 "\n",
           st->divergences, st->results_late, st->refused);
    printf("state hash      %s\n", state);
}

static int run(const hv_cli_spec *spec, int argc, char **argv, int show)
{
    log_args a = { 0 };
    void *targets[] = { &a };
    int rc = hv__opts_parse(spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    hv_log_verify_cb cb = { .ud = (void *)a.dir,
                            .entry = show ? show_entry : NULL,
                            .problem = print_problem };
    hv_log_verify_report *rep = calloc(1, sizeof(*rep));
    char err[1024];
    if (rep == NULL)
        return HV_EXIT_FAIL;
    rc = hv__log_verify(a.dir, rep, &cb, err, sizeof(err));
    if (rc != 0) {
        hv__cli_error(show ? "log show" : "log verify", "%s", err[0] ? err : hv_strerror(rc));
        free(rep);
        return HV_EXIT_FAIL;
    }
    summary(a.dir, rep);
    int exit = rep->problems ? HV_EXIT_FAIL : HV_EXIT_OK;
    if (rep->problems)
        printf("log verify      %" PRIu64 " problems; the first: %s\n", rep->problems,
               rep->first_problem);
    else
        printf("log verify      ok\n");
    free(rep);
    return exit;
}

static int cmd_show(int argc, char **argv)
{
    return run(&show_spec, argc, argv, 1);
}

static int cmd_verify(int argc, char **argv)
{
    return run(&verify_spec, argc, argv, 0);
}

static const hv_cli_sub log_subs[] = {
    { &show_spec, cmd_show },
    { &verify_spec, cmd_verify },
    { NULL, NULL },
};

static const hv_cli_group log_group = {
    .name = "log",
    .about = "The replicated decision log (docs/LOG.md): read a replica's data directory\n"
             "without libraft and without writing to it.\n",
    .subs = log_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_log = &log_group;

int hv_cmd_log(int argc, char **argv);
int hv_cmd_log(int argc, char **argv)
{
    return hv__opts_dispatch(&log_group, argc, argv);
}
