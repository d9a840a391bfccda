/* topic_match_uncached, topic_match_cached: ns per match with 10,000 five-token subscriptions:
 * the trie walk (validation and tokenising included), the publisher's cached lookup (hash +
 * compare), and a brute-force scan of every pattern. */
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/rng.h>

#include "bus/topics.h"
#include "bus_bench.h"

#define NSUBS_MATCH 10000
#define NSUBJECTS   1024

static void make_name(hv_rng *rng, char *out, size_t cap, int pattern)
{
    static const char *t0[] = { "md", "risk", "order", "signal" };
    static const char *t3[] = { "bid", "ask", "last", "vol", "oi", "iv", "delta", "gamma" };
    char syms[8], venue[8], k[8];
    snprintf(syms, sizeof(syms), "S%03u", (unsigned)hv_rng_below(rng, 500));
    snprintf(venue, sizeof(venue), "V%u", (unsigned)hv_rng_below(rng, 8));
    snprintf(k, sizeof(k), "k%u", (unsigned)hv_rng_below(rng, 4));
    const char *tok[5] = { t0[hv_rng_below(rng, 4)], syms, venue, t3[hv_rng_below(rng, 8)], k };
    if (pattern) {
        uint64_t w = hv_rng_below(rng, 20);
        if (w < 2)
            tok[1 + hv_rng_below(rng, 4)] = "*";
        else if (w == 2)
            tok[4] = ">";
    }
    snprintf(out, cap, "%s.%s.%s.%s.%s", tok[0], tok[1], tok[2], tok[3], tok[4]);
}

typedef struct match_ctx {
    hv_topics *t;
    hv_match_cache cache;
    uint64_t gen;
    char (*pats)[48];
    char (*subj)[48];
    size_t lens[NSUBJECTS];
    uint32_t iters, brute_iters;
    uint64_t matched;
} match_ctx;

static double trie_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    match_ctx *c = x;
    uint32_t ids[256];
    uint64_t t0 = hv_now_ns();
    for (uint32_t i = 0; i < c->iters; i++) {
        uint32_t k = i & (NSUBJECTS - 1);
        c->matched += (uint64_t)hv__topics_match(c->t, c->subj[k], c->lens[k], ids, 256);
    }
    return (double)(hv_now_ns() - t0) / c->iters;
}

/* The publish path: hash + lookup of a subject whose result is cached. */
static double cache_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    match_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    for (uint32_t i = 0; i < c->iters; i++) {
        uint32_t k = i & (NSUBJECTS - 1);
        const hv_match_entry *e = hv__cache_lookup(&c->cache, c->gen, c->subj[k], c->lens[k],
                                                   hv__subject_hash(c->subj[k], c->lens[k]));
        c->matched += e != NULL ? e->n : 1000000;
    }
    return (double)(hv_now_ns() - t0) / c->iters;
}

/* Every pattern against the subject. */
static double brute_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    match_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    for (uint32_t i = 0; i < c->brute_iters; i++) {
        uint32_t k = (i * 37) & (NSUBJECTS - 1);
        for (uint32_t p = 0; p < NSUBS_MATCH; p++)
            c->matched += (uint64_t)hv_subject_matches(c->pats[p], c->subj[k]);
    }
    return (double)(hv_now_ns() - t0) / c->brute_iters;
}

static const hv_bench_impl impls[] = {
    { "hivewire_trie", trie_sample, 0, NULL },
    { "hivewire_cache", cache_sample, 0, NULL },
    { "brute_force", brute_sample, 0, NULL },
};

static void build(match_ctx *c, uint64_t seed)
{
    hv_rng rng;
    hv_rng_seed(&rng, seed);
    hv__topics_new(&c->t);
    for (uint32_t i = 0; i < NSUBS_MATCH; i++) {
        make_name(&rng, c->pats[i], sizeof(c->pats[i]), 1);
        hv__topics_add(c->t, c->pats[i], strlen(c->pats[i]), i);
    }
    for (uint32_t i = 0; i < NSUBJECTS; i++) {
        /* half the subjects are taken from the patterns so that they match something */
        const char *p = c->pats[i * 7];
        if (i % 2 == 0 && strchr(p, '*') == NULL && strchr(p, '>') == NULL)
            memcpy(c->subj[i], p, sizeof(c->subj[i]));
        else
            make_name(&rng, c->subj[i], sizeof(c->subj[i]), 0);
        c->lens[i] = strlen(c->subj[i]);
    }
    hv__cache_init(&c->cache, 2048);
    c->gen = hv__topics_generation(c->t);
    for (uint32_t i = 0; i < NSUBJECTS; i++) { /* fill the cache (and warm up) */
        int err;
        hv__cache_fill(&c->cache, c->t, c->gen, c->subj[i], c->lens[i],
                       hv__subject_hash(c->subj[i], c->lens[i]), &err);
    }
}

void hv__bb_topic_match(hv_bench_report *r, const hv_bench_opts *o)
{
    if (!hv_bench_selected(o, "topic_match"))
        return;
    static char pats[NSUBS_MATCH][48];
    static char subj[NSUBJECTS][48];
    static match_ctx c;
    memset(&c, 0, sizeof(c));
    c.pats = pats;
    c.subj = subj;
    c.iters = o->quick ? 20000 : 1000000;
    c.brute_iters = o->quick ? 4 : 64;
    build(&c, o->seed);
    hv_bench_plan p = { .impls = impls, .nimpl = 3, .samples = hv_bench_samples(o, 9), .ctx = &c };
    double *v = hv_bench_interleave_new(&p);
    if (v == NULL)
        hv__bb_fail("out of memory");
    hv_bench_consume(&c.matched);
    unsigned ns = p.samples;
    char params[256];
    snprintf(params, sizeof(params),
             "{\"subscriptions\": %d, \"tokens\": 5, \"distinct_subjects\": %d, "
             "\"wildcard_patterns\": \"~15%%\", \"iters\": %u, \"trie_nodes\": %zu}",
             NSUBS_MATCH, NSUBJECTS, c.iters, hv__topics_nodes(c.t));
    /* the brute-force samples are the peer of both rows */
    hv_bench_add(r, "topic_match_uncached", "hivewire_trie", "ns", v, ns, params);
    hv_bench_add(r, "topic_match_uncached", "brute_force", "ns", v + 2 * ns, ns, params);
    hv_bench_add(r, "topic_match_cached", "hivewire_cache", "ns", v + ns, ns, params);
    hv_bench_add(r, "topic_match_cached", "brute_force", "ns", v + 2 * ns, ns, params);
    hv_bench_ratio(r, "topic_match_uncached", "hivewire_trie", "brute_force");
    hv_bench_ratio(r, "topic_match_cached", "hivewire_cache", "brute_force");
    hv_bench_note(r,
                  "topic_match_cached includes hashing the subject; the cache is direct-mapped "
                  "(2048 entries here, 16 per agent by default) and keyed by subject + generation");
    free(v);
    hv__cache_fini(&c.cache);
    hv__topics_free(c.t);
}
