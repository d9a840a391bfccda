/*
 * Internal: what `hivewire run --remote`, `hivewire coordinator` and `hivewire agent` share
 * (cli_node.c): role lists, HOST:PORT, certificates for a whole swarm, the hub's options, the
 * child processes of run --remote and their per-link figures.
 */
#ifndef HV_SWARM_CLI_NODE_H
#define HV_SWARM_CLI_NODE_H

#include <stdio.h>
#include <sys/types.h>

#include "swarm/node.h"

/* "all" or "market-data,pattern,pattern-2,risk,..." -> a mask of cast slots (never the
 * coordinator's). 0, or HV_EINVAL with why. */
int hv__node_roles(const char *list, uint32_t patterns, uint32_t *mask, char *why, size_t cap);

/* "HOST:PORT" -> host (cap bytes) and port. 0 or HV_EINVAL. */
int hv__node_host_port(const char *s, char *host, size_t cap, uint16_t *port);

/* "HOST:PORT[,HOST:PORT...]" (1 .. NET_LINK_HUBS_MAX) -> out's addresses (out->n of them).
 * 0, or HV_EINVAL with why. */
int hv__node_hub_list(const char *list, hv_net_link_hubs *out, char *why, size_t cap);

/* Makes, in dir, a CA (unless there is one) and the certificate, key and vote key of every
 * member of a swarm of `patterns` pattern agents on `node` (those already there are kept). */
int hv__node_issue_certs(const char *dir, uint32_t patterns, uint32_t node, char *why, size_t cap);

/* Certificates of the load agents load-1 .. load-n of a soak (kept if present). */
int hv__node_issue_load_certs(const char *dir, uint32_t n, char *why, size_t cap);

/* The hub's or an agent's net options for the certificate `name` in `certs` (paths written
 * into the caller's buffer), with the swarm's role x subject table. */
void hv__node_net_opts(hv_net_opts *n, const char *certs, const char *name, int insecure,
                       char *paths, size_t cap);

typedef struct hv_node_children {
    int quiet_children; /* their standard output to /dev/null */
} hv_node_children;

/* Starts one `hivewire agent` child per member of mask, connected to 127.0.0.1:port, with the
 * swarm options of argv (run's own output and process options left out). */
int hv__node_spawn(const hv_node_children *kids, int argc, char **argv, const char *certs,
                   uint16_t port, uint32_t mask, uint32_t patterns, pid_t *pids, uint32_t *npids);

/* Waits up to grace_ms for the children to exit, then kills the rest. */
void hv__node_reap(pid_t *pids, uint32_t n, uint64_t grace_ms);

/* The hub's links, one row each: peer, RTT, bytes, datagrams, packets lost, frames (wrapped to
 * 80 columns unless wide). */
void hv__node_print_links(hv_net *hub, FILE *f, int wide);

/* A swarm whose members of `mask` run as `hivewire agent` children on loopback, with
 * certificates made for it in a temporary directory (removed at the end). child_args are the
 * swarm options the children get (the same data, seed and configuration as cfg). Runs it to
 * the end; *sw (the caller frees it) holds the statistics; *children_cpu_ns what the children
 * cost. Returns 0, or an HV_E* code with why. */
int hv__node_remote_run(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n, uint32_t mask,
                        int child_argc, char **child_argv, hv_swarm_progress_fn progress, void *ud,
                        hv_swarm **sw, uint64_t *children_cpu_ns, char *why, size_t cap);

/* Removes the certificates of a swarm made in dir, and dir (only the files they are). */
void hv__node_remove_certs(const char *dir, uint32_t patterns);

/* Sums of the hub's links: bytes and datagrams both ways. */
void hv__node_link_totals(hv_net *hub, uint64_t *bytes, uint64_t *datagrams);

#endif
