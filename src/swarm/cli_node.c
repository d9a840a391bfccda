/*
 * The swarm over processes, from the command line: `hivewire agent` (agents in a process of
 * their own, connected to a coordinator), the pieces `hivewire coordinator` and `hivewire run
 * --remote` share with it (role lists, certificates for a whole swarm, the hub's options), and
 * the child processes `run --remote` starts.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "swarm/cli_node.h"
#include "swarm/cli_run.h"
#include "swarm/soak.h"

/* ---- Role lists --------------------------------------------------------------------------------
 */

static int slot_of(uint32_t patterns, const char *name, size_t len, uint32_t *mask)
{
    char want[32];
    for (uint32_t s = 1; s < patterns + 5; s++) {
        int role;
        uint32_t index;
        hv__sw_slot_role(patterns, s, &role, &index);
        hv__sw_agent_name(role, index, want, sizeof(want));
        int whole = strlen(want) == len && memcmp(want, name, len) == 0;
        int all_patterns = role == SW_ROLE_PATTERN && len == 7 && memcmp(name, "pattern", 7) == 0;
        if (whole || all_patterns)
            *mask |= 1u << s;
    }
    return 0;
}

int hv__node_roles(const char *list, uint32_t patterns, uint32_t *mask, char *why, size_t cap)
{
    *mask = 0;
    if (strcmp(list, "all") == 0) {
        *mask = ((1u << (patterns + 5)) - 1u) & ~1u;
        return 0;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        uint32_t before = *mask;
        slot_of(patterns, p, len, mask);
        if (*mask == before) {
            snprintf(why, cap,
                     "'%.*s' is not an agent of this swarm: market-data, pattern, pattern-0 .. "
                     "pattern-%u, risk, strategy, execution, or all",
                     (int)len, p, patterns - 1);
            return HV_EINVAL;
        }
        p += len;
        p += *p == ',';
    }
    return 0;
}

int hv__node_host_port(const char *s, char *host, size_t cap, uint16_t *port)
{
    return hv__net_link_host_port(s, host, cap, port);
}

int hv__node_hub_list(const char *list, hv_net_link_hubs *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    char host[NET_LINK_ADDRESS_MAX];
    uint16_t port;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (out->n == NET_LINK_HUBS_MAX) {
            snprintf(why, cap, "more than %u addresses", NET_LINK_HUBS_MAX);
            return HV_EINVAL;
        }
        char *a = out->address[out->n];
        if (len >= NET_LINK_ADDRESS_MAX || len == 0) {
            snprintf(why, cap, "'%.*s' is not HOST:PORT", (int)len, p);
            return HV_EINVAL;
        }
        memcpy(a, p, len);
        a[len] = 0;
        if (hv__node_host_port(a, host, sizeof(host), &port) != 0) {
            snprintf(why, cap, "'%s' is not HOST:PORT", a);
            return HV_EINVAL;
        }
        out->n++;
        p += len;
        p += *p == ',';
    }
    if (out->n == 0) {
        snprintf(why, cap, "no address");
        return HV_EINVAL;
    }
    return 0;
}

/* ---- Certificates for a whole swarm -----------------------------------------------------------
 */

static int issue(const char *dir, int role, uint32_t index, uint32_t node, char *why, size_t cap)
{
    char name[32], path[1024];
    hv__sw_agent_name(role, index, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    if (access(path, R_OK) == 0)
        return 0; /* issued before: keep it (and its vote key) */
    const char *err = NULL;
    uint64_t id = HV_SWARM_ID(node, hv__sw_local_id(role, index));
    int rc = hv_net_certs_issue(dir, name, hv__sw_wire_role(role), id, &err);
    if (rc != 0)
        snprintf(why, cap, "cannot issue %s's certificate in %s: %s", name, dir,
                 err ? err : hv_strerror(rc));
    return rc;
}

int hv__node_issue_load_certs(const char *dir, uint32_t n, char *why, size_t cap)
{
    char name[32], path[1024];
    for (uint32_t i = 1; i <= n; i++) {
        hv__soak_name(i, name, sizeof(name));
        snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
        if (access(path, R_OK) == 0)
            continue;
        const char *err = NULL;
        uint64_t id = ((uint64_t)HV_SOAK_NODE << 32) | i;
        int rc = hv_net_certs_issue(dir, name, HV_WIRE_ROLE_WORKER, id, &err);
        if (rc != 0) {
            snprintf(why, cap, "cannot issue %s's certificate in %s: %s", name, dir,
                     err ? err : hv_strerror(rc));
            return rc;
        }
    }
    return 0;
}

int hv__node_issue_certs(const char *dir, uint32_t patterns, uint32_t node, char *why, size_t cap)
{
    char ca[1024];
    const char *err = NULL;
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    if (access(ca, R_OK) != 0) {
        int rc = hv_net_certs_init(dir, &err);
        if (rc != 0) {
            snprintf(why, cap, "cannot make a CA in %s: %s", dir, err ? err : hv_strerror(rc));
            return rc;
        }
    }
    int rc = 0;
    for (uint32_t s = 0; rc == 0 && s < patterns + 5; s++) {
        int role;
        uint32_t index;
        hv__sw_slot_role(patterns, s, &role, &index);
        rc = issue(dir, role, index, node, why, cap);
    }
    return rc;
}

void hv__node_net_opts(hv_net_opts *n, const char *certs, const char *name, int insecure,
                       char *paths, size_t cap)
{
    hv_net_opts_default(n);
    n->acl = hv__sw_acl();
    if (insecure) {
        n->flags |= HV_NET_INSECURE;
        return;
    }
    /* three paths in one caller buffer: ca, cert, key */
    size_t third = cap / 3;
    snprintf(paths, third, "%s/ca.pem", certs);
    snprintf(paths + third, third, "%s/%s.pem", certs, name);
    snprintf(paths + 2 * third, third, "%s/%s.key", certs, name);
    n->ca_file = paths;
    n->cert_file = paths + third;
    n->key_file = paths + 2 * third;
}

/* ---- Child processes (run --remote) ------------------------------------------------------------
 */

/* The options of `run` that an agent process does not take: --remote, and the output and
 * observability sections. Returns how many arguments to skip at argv[i] (0: pass it on). */
static int run_only(char **argv, int i, int argc)
{
    static const hv_opt remote_row[] = { { .name = "remote", .kind = HV_OPT_STRING }, { 0 } };
    const hv_opt *const tables[] = { remote_row, hv__run_output_rows, hv__obs_rows };
    const char *a = argv[i];
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const hv_opt *r = tables[t]; r->name != NULL; r++) {
            size_t n = strlen(r->name);
            int shortform = r->short_name && a[0] == '-' && a[1] == r->short_name && a[2] == 0;
            int longform = strncmp(a, "--", 2) == 0 && strncmp(a + 2, r->name, n) == 0 &&
                           (a[2 + n] == 0 || a[2 + n] == '=');
            if (!shortform && !longform)
                continue;
            int inline_value = longform && a[2 + n] == '=';
            return r->kind == HV_OPT_FLAG || inline_value || i + 1 >= argc ? 1 : 2;
        }
    }
    return 0;
}

int hv__node_spawn(const hv_node_children *kids, int argc, char **argv, const char *certs,
                   uint16_t port, uint32_t mask, uint32_t patterns, pid_t *pids, uint32_t *npids)
{
    *npids = 0;
    char exe[4096];
    int rc = hv__cli_hivewire_path(exe, sizeof(exe));
    if (rc != 0)
        return rc;
    char portarg[32];
    snprintf(portarg, sizeof(portarg), "127.0.0.1:%u", port);
    for (uint32_t s = 1; s < patterns + 5; s++) {
        if (!(mask >> s & 1u))
            continue;
        int role;
        uint32_t index;
        char name[32];
        hv__sw_slot_role(patterns, s, &role, &index);
        hv__sw_agent_name(role, index, name, sizeof(name));
        char **av = calloc((size_t)argc + 12, sizeof(char *));
        if (av == NULL)
            return HV_ENOMEM;
        int k = 0;
        av[k++] = exe;
        av[k++] = "agent";
        av[k++] = "--agents";
        av[k++] = name;
        av[k++] = "--connect";
        av[k++] = portarg;
        av[k++] = "--certs";
        av[k++] = (char *)certs;
        for (int i = 1; i < argc; i++) {
            int skip = run_only(argv, i, argc);
            if (skip > 0) {
                i += skip - 1;
                continue;
            }
            av[k++] = argv[i];
        }
        av[k] = NULL;
        pid_t pid = fork();
        if (pid == 0) {
            /* Ctrl-C at the terminal reaches the whole process group: the run stops at a cycle
             * boundary and then ends its agents itself, so they must not die first. */
            signal(SIGINT, SIG_IGN);
            if (kids->quiet_children) {
                FILE *devnull = freopen("/dev/null", "w", stdout);
                (void)devnull;
            }
            execv(exe, av);
            _exit(127);
        }
        free(av);
        if (pid < 0)
            return HV_EAGAIN;
        pids[(*npids)++] = pid;
    }
    return 0;
}

/* Waits for the children with a pidfd each (poll: no sleeping), then kills the rest. */
void hv__node_reap(pid_t *pids, uint32_t n, uint64_t grace_ms)
{
    uint64_t end = hv_now_ns() + grace_ms * 1000000ull;
    for (uint32_t i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
        uint64_t now = hv_now_ns();
        if (fd >= 0 && now < end) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int ms = (int)((end - now) / 1000000ull);
            while (poll(&p, 1, ms) < 0 && errno == EINTR)
                ;
        }
        if (fd >= 0)
            close(fd);
        if (waitpid(pids[i], NULL, WNOHANG) != pids[i]) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
        pids[i] = 0;
    }
}

void hv__node_print_links(hv_net *hub, FILE *f, int wide)
{
    hv_net_link_stats ls;
    hv__cli_print_row(f, "links",
                      "peer id, rtt us (min), bytes out/in, datagrams out/in, packets lost, "
                      "frames out/in",
                      wide);
    for (uint32_t i = 0; hv_net_link_stats_get(hub, i, &ls) == 0; i++) {
        char key[32], val[256];
        snprintf(key, sizeof(key), "  link %u", i);
        snprintf(val, sizeof(val),
                 "%016" PRIx64 ", %.0f (%.0f), %" PRIu64 "/%" PRIu64 ", %" PRIu64 "/%" PRIu64
                 ", %" PRIu64 ", %" PRIu64 "/%" PRIu64,
                 ls.peer_id, ls.rtt_us, ls.rtt_min_us, ls.bytes_sent, ls.bytes_recv,
                 ls.datagrams_sent, ls.datagrams_recv, ls.packets_lost, ls.frames_sent,
                 ls.frames_delivered);
        hv__cli_print_row(f, key, val, wide);
    }
}

void hv__node_link_totals(hv_net *hub, uint64_t *bytes, uint64_t *datagrams)
{
    hv_net_link_stats ls;
    *bytes = *datagrams = 0;
    for (uint32_t i = 0; hv_net_link_stats_get(hub, i, &ls) == 0; i++) {
        *bytes += ls.bytes_sent + ls.bytes_recv;
        *datagrams += ls.datagrams_sent + ls.datagrams_recv;
    }
}

/* Removes the certificates of a swarm made in dir, and dir (only the files this wrote). */
void hv__node_remove_certs(const char *dir, uint32_t patterns)
{
    static const char *const ext[] = { "pem", "key", "vote" };
    char path[1100], name[32];
    for (uint32_t s = 0; s < patterns + 5; s++) {
        int role;
        uint32_t index;
        hv__sw_slot_role(patterns, s, &role, &index);
        hv__sw_agent_name(role, index, name, sizeof(name));
        for (int e = 0; e < 3; e++) {
            snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext[e]);
            unlink(path);
        }
    }
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ca.key", dir);
    unlink(path);
    rmdir(dir);
}

int hv__node_remote_run(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n, uint32_t mask,
                        int child_argc, char **child_argv, hv_swarm_progress_fn progress, void *ud,
                        hv_swarm **sw, uint64_t *children_cpu_ns, char *why, size_t cap)
{
    char dir[64] = "/tmp/hivewire-certs-XXXXXX", paths[3 * 1024];
    *sw = NULL;
    *children_cpu_ns = 0;
    why[0] = 0;
    if (mkdtemp(dir) == NULL) {
        snprintf(why, cap, "cannot make a directory for the certificates: %s", strerror(errno));
        return HV_EIO;
    }
    sw_node_opts node;
    memset(&node, 0, sizeof(node));
    node.remote_mask = mask;
    int rc = hv__node_issue_certs(dir, cfg->patterns, cfg->node, why, cap);
    hv__node_net_opts(&node.net, dir, "coordinator", 0, paths, sizeof(paths));
    node.net.host = "127.0.0.1";
    if (rc == 0 && (rc = hv__swarm_new_node(cfg, bars, n, &node, sw)) != 0)
        snprintf(why, cap, "cannot build the swarm: %s: %s", hv_strerror(rc),
                 hv_net_last_error(NULL));
    pid_t pids[HV_SWARM_THREADS_MAX];
    uint32_t npids = 0;
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    if (rc == 0) {
        hv_node_children kids = { .quiet_children = 1 };
        rc = hv__node_spawn(&kids, child_argc, child_argv, dir,
                            hv_net_port(hv__swarm_gateway(*sw)->hub), mask, cfg->patterns, pids,
                            &npids);
    }
    if (rc == 0 && (rc = hv_swarm_run(*sw, progress, ud)) != 0)
        snprintf(why, cap, "the swarm stopped: %s", hv_swarm_error(*sw));
    hv__node_reap(pids, npids, 5000);
    getrusage(RUSAGE_CHILDREN, &after);
    int64_t us = (int64_t)(after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec -
                           before.ru_stime.tv_sec) *
                     1000000 +
                 (after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
                 (after.ru_stime.tv_usec - before.ru_stime.tv_usec);
    *children_cpu_ns = us > 0 ? (uint64_t)us * 1000u : 0;
    hv__node_remove_certs(dir, cfg->patterns);
    return rc;
}

/* ---- hivewire agent
 * ------------------------------------------------------------------------------ */

static const hv_opt agent_net_rows[] = {
    { .name = "agents",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, agents),
      .metavar = "ROLES",
      .help = "the agents this process runs: all, or a list of market-data, pattern (every "
              "pattern agent) or pattern-I, risk, strategy, execution" },
    { .name = "connect",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, connect),
      .metavar = "HOST:PORT[,...]",
      .dflt = "127.0.0.1:4433",
      .help = "the coordinator; for a replicated one (coordinator --replica), every replica's "
              "agent address: each agent follows the leader (redirects, and the next address "
              "when its hub is lost)" },
    { .name = "certs",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(run_opts, certs),
      .dflt = "certs",
      .help = "ca.pem and each agent's <name>.pem, .key and .vote (hivewire coordinator "
              "--issue-certs makes them)" },
    { .name = "insecure",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(run_opts, insecure),
      .help = "INSECURE: no certificates, nothing verified (tests and demos only)" },
    { .name = "count",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, count),
      .umin = 1,
      .umax = HV_SOAK_AGENTS_MAX,
      .help = "a soak instead of a swarm: N lightweight agents (load-1 .. load-N), each with "
              "its own connection, sending heartbeats (10 a second) and task results until "
              "the coordinator's soak ends" },
    { .name = "for",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, soak_s),
      .umin = 1,
      .umax = 86400,
      .needs = "count",
      .dflt = "10",
      .help = "the soak's length, in seconds (give the coordinator's, plus its join time)" },
    { 0 },
};

static const hv_opt_section agent_sections[] = {
    { "network", agent_net_rows, T_RUN },
    HV_RUN_CONFIG_SECTIONS,
    { "progress (an agent shows none: accepted as every long command does)", hv__run_progress_rows,
      T_RUN },
    { 0 },
};

static const hv_cli_spec agent_spec = {
    .name = "agent",
    .synopsis = "--agents ROLES | --count N [--connect HOST:PORT] [options]",
    .summary = "run agents of a trading swarm in this process, connected to its coordinator",
    .about = "Runs some agents of a trading swarm in this process, each with its own QUIC\n"
             "connection and certificate, as the same state machines as in one process. Give\n"
             "them the same swarm options as the coordinator (data, agents, strategy, ...):\n"
             "each agent reads its own copy of the data and keeps its own keys. The process\n"
             "ends when the coordinator says the run is over.\n",
    .sections = agent_sections,
    .epilog = "Exit status: 0 the run ended, 1 the agents could not run (the message says\n"
              "why), 2 bad usage.\n",
};

/* hivewire agent --count N: the load side of a soak. */
static int soak_agents(const run_opts *o)
{
    hv_soak_opts so;
    memset(&so, 0, sizeof(so));
    so.agents = (uint32_t)o->count;
    so.heartbeat_ms = 100;
    so.run_ms = (o->soak_s ? o->soak_s : 10) * 1000u;
    char host[256], ca[1024];
    hv_net_opts_default(&so.net);
    if (hv__node_host_port(o->connect, host, sizeof(host), &so.net.port) != 0)
        return hv__opts_usage_error(&agent_spec, "--connect: '%s' is not HOST:PORT", o->connect);
    so.net.host = host;
    if (o->insecure) {
        so.net.flags |= HV_NET_INSECURE;
    } else {
        snprintf(ca, sizeof(ca), "%s/ca.pem", o->certs);
        so.net.ca_file = ca;
        so.cert_dir = o->certs;
    }
    hv_soak_result r;
    int rc = hv__soak_agents(&so, &r);
    if (rc != 0) {
        hv__cli_error("agent", "%s", r.error[0] ? r.error : hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    char val[256];
    snprintf(val, sizeof(val), "%u (%u joined the hub)", so.agents, r.connected);
    hv__cli_print_row(stdout, "load agents", val, o->wide);
    snprintf(val, sizeof(val), "p50 %.1f us, p99 %.1f us, max %.1f us (%" PRIu64 " heartbeats)",
             (double)r.rtt_p50_ns / 1e3, (double)r.rtt_p99_ns / 1e3, (double)r.rtt_max_ns / 1e3,
             r.rtt_samples);
    hv__cli_print_row(stdout, "heartbeat round trip", val, o->wide);
    return r.connected == so.agents ? HV_EXIT_OK : HV_EXIT_FAIL;
}

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_agent = &agent_spec;

int hv_cmd_agent(int argc, char **argv);

int hv_cmd_agent(int argc, char **argv)
{
    run_opts o;
    hv__run_opts_default(&o);
    o.connect = "127.0.0.1:4433";
    o.certs = "certs";
    int rc = hv__run_parse(&agent_spec, argc, argv, &o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    char why[256], host[256];
    sw_node_opts node;
    memset(&node, 0, sizeof(node));
    if (o.count > 0)
        return soak_agents(&o);
    if (o.agents == NULL)
        return hv__opts_usage_error(&agent_spec, "option --agents is required (or --count N)");
    if (hv__node_roles(o.agents, o.cfg.patterns, &node.local_mask, why, sizeof(why)) != 0)
        return hv__opts_usage_error(&agent_spec, "--agents: %s", why);
    hv_net_opts_default(&node.net);
    if (hv__node_hub_list(o.connect, &node.hubs, why, sizeof(why)) != 0)
        return hv__opts_usage_error(&agent_spec, "--connect: %s", why);
    if (node.hubs.n == 1)
        node.hubs.n = 0; /* one coordinator: the transport reconnects to it */
    if (hv__node_host_port(node.hubs.address[0], host, sizeof(host), &node.net.port) != 0)
        return hv__opts_usage_error(&agent_spec, "--connect: '%s' is not HOST:PORT", o.connect);
    node.net.host = host;
    node.net.acl = hv__sw_acl();
    char paths[3 * 1024];
    if (o.insecure) {
        node.net.flags |= HV_NET_INSECURE;
        fprintf(stderr, "hivewire agent: INSECURE: no certificates, nothing verified\n");
    } else {
        snprintf(paths, sizeof(paths), "%s/ca.pem", o.certs);
        node.net.ca_file = paths;
        node.certs_dir = o.certs;
    }
    hv_series bars;
    hv_series_init(&bars);
    if ((rc = hv__cli_bars_load("agent", &o.bars, o.cfg.seed, &bars)) != 0) {
        hv_series_fini(&bars);
        return rc;
    }
    o.cfg.vote_auth = HV_SWARM_AUTH_SIG;
    rc = hv__sw_agents_run(&o.cfg, bars.bars, bars.len, &node, why, sizeof(why));
    hv_series_fini(&bars);
    if (rc != 0) {
        hv__cli_error("agent", "%s", why);
        return HV_EXIT_FAIL;
    }
    return HV_EXIT_OK;
}
