/* Tests of subject validation, the subscription trie and the match cache. */
#include "hv_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/bus.h>
#include <hivewire/rng.h>

#include "bus/topics.h"

static int check(const char *s, int pattern, const char **reason)
{
    return hv_subject_check(s, strlen(s), pattern, reason);
}

static void valid_subjects_and_patterns_are_accepted(void **state)
{
    (void)state;
    assert_int_equal(check("a", 0, NULL), 1);
    assert_int_equal(check("md.AAPL.quote", 0, NULL), 3);
    assert_int_equal(check("md.*.quote", 1, NULL), 3);
    assert_int_equal(check("md.>", 1, NULL), 2);
    assert_int_equal(check(">", 1, NULL), 1);
    assert_int_equal(check("*.*", 1, NULL), 2);
    assert_int_equal(check("a-b_c:d/e", 0, NULL), 1);
}

static void invalid_subjects_are_rejected_with_a_reason(void **state)
{
    (void)state;
    const char *cases[][2] = {
        { "", "empty subject" },
        { ".a", "starts with '.'" },
        { "a.", "ends with '.'" },
        { "a..b", "empty token ('..')" },
        { "a b", "contains a space, a control character or NUL" },
        { "a.*", "wildcard '*' or '>' in a subject (only patterns may hold wildcards)" },
        { "a.>", "wildcard '*' or '>' in a subject (only patterns may hold wildcards)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *reason = NULL;
        assert_int_equal(check(cases[i][0], 0, &reason), HV_EBADSUBJECT);
        assert_string_equal(reason, cases[i][1]);
    }
    char tab[] = "a\tb";
    assert_int_equal(check(tab, 0, NULL), HV_EBADSUBJECT);
    assert_int_equal(hv_subject_check("a\0b", 3, 0, NULL), HV_EBADSUBJECT);
    assert_int_equal(hv_subject_check(NULL, 0, 0, NULL), HV_EBADSUBJECT);
}

static void invalid_patterns_are_rejected_with_a_reason(void **state)
{
    (void)state;
    const char *reason = NULL;
    assert_int_equal(check("a.>.b", 1, &reason), HV_EBADSUBJECT);
    assert_string_equal(reason, "'>' must be the last token");
    assert_int_equal(check("a*.b", 1, &reason), HV_EBADSUBJECT);
    assert_string_equal(reason, "wildcard inside a token ('*' and '>' must be whole tokens)");
    assert_int_equal(check("a.b>", 1, &reason), HV_EBADSUBJECT);
    assert_int_equal(check("**", 1, &reason), HV_EBADSUBJECT);
}

static void length_and_token_limits_are_enforced_on_both_sides(void **state)
{
    (void)state;
    char s[128];
    memset(s, 'x', sizeof(s));
    assert_int_equal(hv_subject_check(s, HV_SUBJECT_MAX, 0, NULL), 1);
    const char *reason;
    assert_int_equal(hv_subject_check(s, HV_SUBJECT_MAX + 1, 0, &reason), HV_EBADSUBJECT);
    assert_string_equal(reason, "longer than 95 bytes");
    /* 16 tokens ok, 17 rejected */
    strcpy(s, "a");
    for (int i = 1; i < 16; i++)
        strcat(s, ".a");
    assert_int_equal(check(s, 0, NULL), 16);
    strcat(s, ".a");
    assert_int_equal(check(s, 0, &reason), HV_EBADSUBJECT);
    assert_string_equal(reason, "more than 16 tokens");
}

static void reference_matcher_follows_nats_rules(void **state)
{
    (void)state;
    assert_true(hv_subject_matches("a.*", "a.b"));
    assert_false(hv_subject_matches("a.*", "a"));
    assert_false(hv_subject_matches("a.*", "a.b.c"));
    assert_true(hv_subject_matches("a.>", "a.b"));
    assert_true(hv_subject_matches("a.>", "a.b.c.d"));
    assert_false(hv_subject_matches("a.>", "a"));
    assert_true(hv_subject_matches(">", "a"));
    assert_true(hv_subject_matches("*.b.>", "x.b.c"));
    assert_false(hv_subject_matches("*.b.>", "x.b"));
    assert_true(hv_subject_matches("a.b", "a.b"));
    assert_false(hv_subject_matches("a.b", "a.bc"));
    assert_false(hv_subject_matches("a.b", "a.b.c"));
    assert_false(hv_subject_matches("a.>", "a.*"));     /* invalid subject never matches */
    assert_false(hv_subject_matches("a.>.b", "a.x.b")); /* invalid pattern never matches */
}

static int match_sorted(hv_topics *t, const char *s, uint32_t *ids, uint32_t max)
{
    int n = hv__topics_match(t, s, strlen(s), ids, max);
    for (int i = 1; i < n && (uint32_t)n <= max; i++) /* insertion sort for comparisons */
        for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            uint32_t x = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = x;
        }
    return n;
}

static void add(hv_topics *t, const char *p, uint32_t id)
{
    assert_int_equal(hv__topics_add(t, p, strlen(p), id), 0);
}

static void trie_matches_wildcards_at_every_position(void **state)
{
    (void)state;
    hv_topics *t;
    assert_int_equal(hv__topics_new(&t), 0);
    add(t, "a.b.c", 1);
    add(t, "a.*.c", 2);
    add(t, "a.>", 3);
    add(t, "*.b.*", 4);
    add(t, ">", 5);
    add(t, "a", 6);
    add(t, "a.b", 7);
    uint32_t ids[16];
    assert_int_equal(match_sorted(t, "a.b.c", ids, 16), 5);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    assert_int_equal(ids[3], 4);
    assert_int_equal(ids[4], 5);
    assert_int_equal(match_sorted(t, "a", ids, 16), 2); /* ">" and "a", not "a.>" */
    assert_int_equal(ids[0], 5);
    assert_int_equal(ids[1], 6);
    assert_int_equal(match_sorted(t, "a.b", ids, 16), 3); /* a.>, >, a.b */
    assert_int_equal(match_sorted(t, "x.y", ids, 16), 1);
    assert_int_equal(match_sorted(t, "x.b.z.w", ids, 16), 1);
    assert_int_equal(hv__topics_match(t, "a.*", 3, ids, 16), HV_EBADSUBJECT);
    hv__topics_free(t);
}

static void match_reports_the_total_when_the_array_is_short(void **state)
{
    (void)state;
    hv_topics *t;
    assert_int_equal(hv__topics_new(&t), 0);
    for (uint32_t i = 0; i < 10; i++)
        add(t, "x.*", i);
    uint32_t ids[4];
    assert_int_equal(hv__topics_match(t, "x.y", 3, ids, 4), 10);
    hv__topics_free(t);
}

static void remove_prunes_nodes_and_bumps_the_generation(void **state)
{
    (void)state;
    hv_topics *t;
    assert_int_equal(hv__topics_new(&t), 0);
    uint64_t g0 = hv__topics_generation(t);
    add(t, "a.b.c.d", 1);
    add(t, "a.*.>", 2);
    assert_true(hv__topics_generation(t) > g0);
    assert_int_equal(hv__topics_nodes(t), 6);
    assert_int_equal(hv__topics_remove(t, "a.b.c.d", 7, 9), HV_ENOTFOUND);
    assert_int_equal(hv__topics_remove(t, "a.b.c.x", 7, 1), HV_ENOTFOUND);
    uint64_t g1 = hv__topics_generation(t);
    assert_int_equal(hv__topics_remove(t, "a.b.c.d", 7, 1), 0);
    assert_true(hv__topics_generation(t) > g1);
    assert_int_equal(hv__topics_nodes(t), 3);
    uint32_t ids[4];
    assert_int_equal(hv__topics_match(t, "a.b.c.d", 7, ids, 4), 1);
    assert_int_equal(ids[0], 2);
    assert_int_equal(hv__topics_remove(t, "a.*.>", 5, 2), 0);
    assert_int_equal(hv__topics_nodes(t), 0);
    assert_int_equal(hv__topics_match(t, "a.b.c.d", 7, ids, 4), 0);
    hv__topics_free(t);
}

static void random_token(hv_rng *r, char *out, int pattern)
{
    static const char *lits[] = { "a", "b", "cc", "d" };
    uint64_t k = hv_rng_below(r, pattern ? 6 : 4);
    if (k < 4)
        strcpy(out, lits[k]);
    else
        strcpy(out, k == 4 ? "*" : ">");
}

static void random_name(hv_rng *r, char *out, int pattern)
{
    int n = 1 + (int)hv_rng_below(r, 4);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char tok[4];
        random_token(r, tok, pattern);
        if (tok[0] == '>' && i != n - 1)
            strcpy(tok, "*");
        if (i)
            strcat(out, ".");
        strcat(out, tok);
    }
}

static void trie_agrees_with_the_reference_matcher(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 42);
    hv_topics *t;
    assert_int_equal(hv__topics_new(&t), 0);
    enum { NPAT = 200, NSUBJ = 500 };
    static char pats[NPAT][32];
    for (uint32_t i = 0; i < NPAT; i++) {
        random_name(&r, pats[i], 1);
        add(t, pats[i], i);
    }
    for (int k = 0; k < NSUBJ; k++) {
        char subj[32];
        random_name(&r, subj, 0);
        uint32_t ids[NPAT];
        int n = hv__topics_match(t, subj, strlen(subj), ids, NPAT);
        assert_true(n >= 0);
        int expect = 0;
        for (uint32_t i = 0; i < NPAT; i++)
            expect += hv_subject_matches(pats[i], subj);
        assert_int_equal(n, expect);
        for (int j = 0; j < n; j++)
            assert_true(hv_subject_matches(pats[ids[j]], subj));
    }
    hv__topics_free(t);
}

static void cache_hits_until_the_generation_changes(void **state)
{
    (void)state;
    hv_topics *t;
    assert_int_equal(hv__topics_new(&t), 0);
    add(t, "q.*", 1);
    hv_match_cache c;
    assert_int_equal(hv__cache_init(&c, 6), HV_EINVAL);
    assert_int_equal(hv__cache_init(&c, 8), 0);
    const char *s = "q.x";
    uint64_t h = hv__subject_hash(s, 3);
    uint64_t gen = hv__topics_generation(t);
    assert_null(hv__cache_lookup(&c, gen, s, 3, h));
    int err = 0;
    assert_non_null(hv__cache_fill(&c, t, gen, s, 3, h, &err));
    const hv_match_entry *e = hv__cache_lookup(&c, gen, s, 3, h);
    assert_non_null(e);
    assert_int_equal(e->n, 1);
    assert_null(hv__cache_lookup(&c, gen, "q.y", 3, h)); /* same slot, other subject */
    add(t, "q.>", 2);
    gen = hv__topics_generation(t);
    assert_null(hv__cache_lookup(&c, gen, s, 3, h));
    e = hv__cache_fill(&c, t, gen, s, 3, h, &err);
    assert_int_equal(e->n, 2);
    /* a result larger than the entry's array grows it */
    for (uint32_t i = 10; i < 40; i++)
        add(t, "q.x", i);
    gen = hv__topics_generation(t);
    e = hv__cache_fill(&c, t, gen, s, 3, h, &err);
    assert_int_equal(e->n, 32);
    assert_null(hv__cache_fill(&c, t, gen, "q.*", 3, hv__subject_hash("q.*", 3), &err));
    assert_int_equal(err, HV_EBADSUBJECT);
    hv__cache_fini(&c);
    hv__topics_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_subjects_and_patterns_are_accepted),
        cmocka_unit_test(invalid_subjects_are_rejected_with_a_reason),
        cmocka_unit_test(invalid_patterns_are_rejected_with_a_reason),
        cmocka_unit_test(length_and_token_limits_are_enforced_on_both_sides),
        cmocka_unit_test(reference_matcher_follows_nats_rules),
        cmocka_unit_test(trie_matches_wildcards_at_every_position),
        cmocka_unit_test(match_reports_the_total_when_the_array_is_short),
        cmocka_unit_test(remove_prunes_nodes_and_bumps_the_generation),
        cmocka_unit_test(trie_agrees_with_the_reference_matcher),
        cmocka_unit_test(cache_hits_until_the_generation_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
