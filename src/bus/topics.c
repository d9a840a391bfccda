/*
 * Subject validation, the subscription trie and the match cache.
 *
 * The trie has one node per pattern token. Literal children are kept in one hash table for the
 * whole trie, keyed by (parent node, token); '*' and '>' children hang off their parent
 * directly. A match walks the subject's tokens: at each node it takes the '>' child (which
 * matches all remaining tokens, at least one), the '*' child (one token) and the literal child.
 * With at most HV_SUBJECT_TOKENS_MAX tokens and two branches per level the walk is bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "topics.h"

#define FAIL(msg)              \
    do {                       \
        if (reason != NULL)    \
            *reason = (msg);   \
        return HV_EBADSUBJECT; \
    } while (0)

static int check_token(const char *tok, size_t tl, int is_pattern, int last, const char **reason)
{
    int wild = memchr(tok, '*', tl) != NULL || memchr(tok, '>', tl) != NULL;
    if (!wild)
        return 0;
    if (!is_pattern)
        FAIL("wildcard '*' or '>' in a subject (only patterns may hold wildcards)");
    if (tl != 1)
        FAIL("wildcard inside a token ('*' and '>' must be whole tokens)");
    if (tok[0] == '>' && !last)
        FAIL("'>' must be the last token");
    return 0;
}

int hv_subject_check(const char *s, size_t len, int is_pattern, const char **reason)
{
    if (s == NULL || len == 0)
        FAIL("empty subject");
    if (len > HV_SUBJECT_MAX)
        FAIL("longer than 95 bytes");
    int tokens = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c == 0x7f)
                FAIL("contains a space, a control character or NUL");
            continue;
        }
        size_t tl = i - start;
        if (tl == 0)
            FAIL(start == 0 ? "starts with '.'"
                            : (i == len ? "ends with '.'" : "empty token ('..')"));
        if (++tokens > HV_SUBJECT_TOKENS_MAX)
            FAIL("more than 16 tokens");
        int rc = check_token(s + start, tl, is_pattern, i == len, reason);
        if (rc < 0)
            return rc;
        start = i + 1;
    }
    return tokens;
}

/* ---------------------------------------------------------------------------------------- */

typedef struct tok {
    const char *p;
    uint32_t len;
    uint64_t hash;
} tok;

static uint64_t token_hash(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Validates and splits; returns the token count or HV_EBADSUBJECT. */
static int tokenize(const char *s, size_t len, int is_pattern, tok *toks)
{
    int n = hv_subject_check(s, len, is_pattern, NULL);
    if (n < 0)
        return n;
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        toks[k].p = s + start;
        toks[k].len = (uint32_t)(i - start);
        toks[k].hash = token_hash(s + start, i - start);
        k++;
        start = i + 1;
    }
    return n;
}

uint64_t hv__subject_hash(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, s + i, len - i);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* ---------------------------------------------------------------------------------------- */

enum { KIND_ROOT, KIND_LITERAL, KIND_STAR, KIND_GT };

typedef struct node {
    struct node *parent;
    struct node *star;
    struct node *gt;
    struct node *hnext; /* chain of the literal-children hash table */
    uint64_t hash;      /* token hash (literal) */
    char *token;        /* owned copy (literal) */
    uint32_t token_len;
    uint32_t kind;
    uint32_t nchildren; /* literal + star + gt children */
    uint32_t nsubs;
    uint32_t cap;
    uint32_t *subs;
} node;

struct hv_topics {
    node root;
    node **buckets;
    size_t nbuckets; /* power of two */
    size_t nliterals;
    size_t nodes;
    uint64_t gen;
};

static size_t bucket_of(const hv_topics *t, const node *parent, uint64_t hash)
{
    uint64_t h = hash ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);
    h ^= h >> 31;
    return (size_t)(h & (t->nbuckets - 1));
}

static node *find_literal(const hv_topics *t, const node *parent, const tok *k)
{
    for (node *n = t->buckets[bucket_of(t, parent, k->hash)]; n != NULL; n = n->hnext) {
        if (n->parent == parent && n->hash == k->hash && n->token_len == k->len &&
            memcmp(n->token, k->p, k->len) == 0)
            return n;
    }
    return NULL;
}

static int grow_buckets(hv_topics *t)
{
    size_t nb = t->nbuckets * 2;
    node **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return HV_ENOMEM;
    node **old = t->buckets;
    size_t oldn = t->nbuckets;
    t->buckets = b;
    t->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++) {
        node *n = old[i];
        while (n != NULL) {
            node *next = n->hnext;
            size_t j = bucket_of(t, n->parent, n->hash);
            n->hnext = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(old);
    return 0;
}

int hv__topics_new(hv_topics **out)
{
    hv_topics *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return HV_ENOMEM;
    t->nbuckets = 64;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return HV_ENOMEM;
    }
    t->root.kind = KIND_ROOT;
    t->gen = 1;
    *out = t;
    return 0;
}

static void free_node(node *n)
{
    free(n->subs);
    free(n->token);
    free(n);
}

static void free_subtree_wild(node *n);

void hv__topics_free(hv_topics *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        node *n = t->buckets[i];
        while (n != NULL) {
            node *next = n->hnext;
            free_subtree_wild(n);
            n = next;
        }
    }
    free_subtree_wild(&t->root);
    free(t->root.subs);
    free(t->buckets);
    free(t);
}

/* Frees the '*' and '>' descendants of n (literal descendants sit in the hash table and are
 * freed from there), and n itself unless it is the root. */
static void free_subtree_wild(node *n)
{
    if (n->star != NULL)
        free_subtree_wild(n->star);
    if (n->gt != NULL)
        free_subtree_wild(n->gt);
    n->star = n->gt = NULL;
    if (n->kind != KIND_ROOT)
        free_node(n);
}

static node *new_child(hv_topics *t, node *parent, uint32_t kind, const tok *k)
{
    node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->parent = parent;
    n->kind = kind;
    if (kind == KIND_LITERAL) {
        if (t->nliterals + 1 > t->nbuckets && grow_buckets(t) != 0) {
            free(n);
            return NULL;
        }
        n->token = malloc(k->len);
        if (n->token == NULL) {
            free(n);
            return NULL;
        }
        memcpy(n->token, k->p, k->len);
        n->token_len = k->len;
        n->hash = k->hash;
        size_t j = bucket_of(t, parent, k->hash);
        n->hnext = t->buckets[j];
        t->buckets[j] = n;
        t->nliterals++;
    } else if (kind == KIND_STAR) {
        parent->star = n;
    } else {
        parent->gt = n;
    }
    parent->nchildren++;
    t->nodes++;
    return n;
}

static void unlink_node(hv_topics *t, node *n)
{
    node *p = n->parent;
    if (n->kind == KIND_STAR) {
        p->star = NULL;
    } else if (n->kind == KIND_GT) {
        p->gt = NULL;
    } else {
        node **pp = &t->buckets[bucket_of(t, p, n->hash)];
        while (*pp != n)
            pp = &(*pp)->hnext;
        *pp = n->hnext;
        t->nliterals--;
    }
    p->nchildren--;
    t->nodes--;
    free_node(n);
}

static uint32_t kind_of(const tok *k)
{
    if (k->len == 1 && k->p[0] == '*')
        return KIND_STAR;
    if (k->len == 1 && k->p[0] == '>')
        return KIND_GT;
    return KIND_LITERAL;
}

static node *child_of(const hv_topics *t, const node *n, const tok *k)
{
    uint32_t kind = kind_of(k);
    if (kind == KIND_STAR)
        return n->star;
    if (kind == KIND_GT)
        return n->gt;
    return find_literal(t, n, k);
}

static void prune(hv_topics *t, node *n)
{
    while (n->kind != KIND_ROOT && n->nsubs == 0 && n->nchildren == 0) {
        node *p = n->parent;
        unlink_node(t, n);
        n = p;
    }
}

int hv__topics_add(hv_topics *t, const char *pattern, size_t len, uint32_t sub_id)
{
    tok toks[HV_SUBJECT_TOKENS_MAX];
    int ntok = tokenize(pattern, len, 1, toks);
    if (ntok < 0)
        return ntok;
    node *n = &t->root;
    for (int i = 0; i < ntok; i++) {
        node *c = child_of(t, n, &toks[i]);
        if (c == NULL)
            c = new_child(t, n, kind_of(&toks[i]), &toks[i]);
        if (c == NULL) {
            prune(t, n);
            return HV_ENOMEM;
        }
        n = c;
    }
    if (n->nsubs == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 4;
        uint32_t *s = realloc(n->subs, cap * sizeof(*s));
        if (s == NULL) {
            prune(t, n);
            return HV_ENOMEM;
        }
        n->subs = s;
        n->cap = cap;
    }
    n->subs[n->nsubs++] = sub_id;
    t->gen++;
    return 0;
}

int hv__topics_remove(hv_topics *t, const char *pattern, size_t len, uint32_t sub_id)
{
    tok toks[HV_SUBJECT_TOKENS_MAX];
    int ntok = tokenize(pattern, len, 1, toks);
    if (ntok < 0)
        return HV_ENOTFOUND;
    node *n = &t->root;
    for (int i = 0; i < ntok && n != NULL; i++)
        n = child_of(t, n, &toks[i]);
    if (n == NULL)
        return HV_ENOTFOUND;
    for (uint32_t i = 0; i < n->nsubs; i++) {
        if (n->subs[i] != sub_id)
            continue;
        n->subs[i] = n->subs[--n->nsubs];
        prune(t, n);
        t->gen++;
        return 0;
    }
    return HV_ENOTFOUND;
}

uint64_t hv__topics_generation(const hv_topics *t)
{
    return t->gen;
}

size_t hv__topics_nodes(const hv_topics *t)
{
    return t->nodes;
}

typedef struct match_ctx {
    const hv_topics *t;
    const tok *toks;
    int ntok;
    uint32_t *ids;
    uint32_t max;
    uint32_t total;
} match_ctx;

static void collect(match_ctx *m, const node *n)
{
    for (uint32_t i = 0; i < n->nsubs; i++) {
        if (m->total < m->max)
            m->ids[m->total] = n->subs[i];
        m->total++;
    }
}

static void walk(match_ctx *m, const node *n, int i)
{
    if (i == m->ntok) {
        collect(m, n);
        return;
    }
    if (n->gt != NULL)
        collect(m, n->gt);
    if (n->star != NULL)
        walk(m, n->star, i + 1);
    const node *c = find_literal(m->t, n, &m->toks[i]);
    if (c != NULL)
        walk(m, c, i + 1);
}

int hv__topics_match(const hv_topics *t, const char *subject, size_t len, uint32_t *ids,
                     uint32_t max)
{
    tok toks[HV_SUBJECT_TOKENS_MAX];
    int ntok = tokenize(subject, len, 0, toks);
    if (ntok < 0)
        return ntok;
    match_ctx m = { .t = t, .toks = toks, .ntok = ntok, .ids = ids, .max = max };
    walk(&m, &t->root, 0);
    return (int)m.total;
}

/* ---------------------------------------------------------------------------------------- */

static int pattern_match(const tok *pt, int np, const tok *st, int ns)
{
    int i = 0;
    for (; i < np; i++) {
        if (pt[i].len == 1 && pt[i].p[0] == '>')
            return ns > i;
        if (i >= ns)
            return 0;
        if (pt[i].len == 1 && pt[i].p[0] == '*')
            continue;
        if (pt[i].len != st[i].len || memcmp(pt[i].p, st[i].p, pt[i].len) != 0)
            return 0;
    }
    return i == ns;
}

int hv_subject_matches(const char *pattern, const char *subject)
{
    if (pattern == NULL || subject == NULL)
        return 0;
    tok pt[HV_SUBJECT_TOKENS_MAX], st[HV_SUBJECT_TOKENS_MAX];
    int np = tokenize(pattern, strnlen(pattern, HV_SUBJECT_MAX + 1), 1, pt);
    int ns = tokenize(subject, strnlen(subject, HV_SUBJECT_MAX + 1), 0, st);
    if (np < 0 || ns < 0)
        return 0;
    return pattern_match(pt, np, st, ns);
}

/* ---------------------------------------------------------------------------------------- */

int hv__cache_init(hv_match_cache *c, uint32_t entries)
{
    if (entries == 0 || (entries & (entries - 1)) != 0)
        return HV_EINVAL;
    c->entries = calloc(entries, sizeof(*c->entries));
    if (c->entries == NULL)
        return HV_ENOMEM;
    c->mask = entries - 1;
    return 0;
}

void hv__cache_fini(hv_match_cache *c)
{
    if (c->entries == NULL)
        return;
    for (uint32_t i = 0; i <= c->mask; i++)
        free(c->entries[i].ids);
    free(c->entries);
    c->entries = NULL;
}

hv_match_entry *hv__cache_fill(hv_match_cache *c, const hv_topics *t, uint64_t gen, const char *s,
                               size_t len, uint64_t hash, int *err)
{
    hv_match_entry *e = &c->entries[hash & c->mask];
    e->gen = 0;
    int total = hv__topics_match(t, s, len, e->ids, e->cap);
    if (total < 0) {
        *err = total;
        return NULL;
    }
    if ((uint32_t)total > e->cap) {
        uint32_t cap = 8;
        while (cap < (uint32_t)total)
            cap *= 2;
        uint32_t *ids = realloc(e->ids, cap * sizeof(*ids));
        if (ids == NULL) {
            *err = HV_ENOMEM;
            return NULL;
        }
        e->ids = ids;
        e->cap = cap;
        total = hv__topics_match(t, s, len, e->ids, e->cap);
    }
    e->n = (uint32_t)total;
    e->hash = hash;
    e->len = (uint32_t)len;
    memcpy(e->subject, s, len);
    e->subject[len] = '\0';
    e->gen = gen;
    return e;
}
