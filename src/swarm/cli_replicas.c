/*
 * `hivewire run --replicas N --data-dir DIR`: the run's coordinator on the replicated decision
 * log (src/swarm/replicated.h, docs/LOG.md): N replicas in the coordinator's process, over
 * mutual TLS on loopback, each keeping its log in DIR/replica-K.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "swarm/cli_run.h"
#include "swarm/replicated.h"

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
    { 0 },
};

int hv__run_replicas_begin(const run_opts *o, hv_swarm *sw, const hv_bar *bars, size_t n,
                           sw_replicas **out)
{
    *out = NULL;
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
    if (r == NULL)
        return 0;
    int rc = 0;
    if (ok && hv__sw_replicas_settle(r) != 0) {
        hv__cli_error("run", "the replicas did not all apply the log in time");
        rc = HV_EXIT_FAIL;
    }
    hv_swarm_stats st;
    hv_swarm_stats_get(sw, &st);
    for (uint32_t k = 0; k < hv__sw_replicas_count(r); k++) {
        sw_replica_info in;
        hv__sw_replicas_info(r, k, &in);
        char h[65];
        sodium_bin2hex(h, sizeof(h), in.state_hash, 16);
        printf("replica %u%-9s term %" PRIu64 ", %" PRIu64 " entries, %" PRIu64
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
    printf("replicated log  %s/replica-K (hivewire log verify --data-dir %s/replica-1)\n",
           o->data_dir, o->data_dir);
    hv__sw_replicas_free(r);
    return rc;
}
