/*
 * Fuzz harness for the bus subject/pattern parser and the trie (subjects and patterns come
 * from outside: remote agents over the transport, CLI arguments). Input: "<pattern>\n<subject>".
 * Checks that validation never crashes, that every rejection carries a reason, and that the
 * trie agrees with the reference matcher.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/bus.h>

#include "bus/topics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond)
        abort();
}

static int checked(const char *s, size_t len, int pattern)
{
    const char *reason = NULL;
    int n = hv_subject_check(s, len, pattern, &reason);
    must(n > 0 || (n == HV_EBADSUBJECT && reason != NULL && reason[0] != '\0'));
    must(n <= HV_SUBJECT_TOKENS_MAX);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    size_t slen = nl ? size - plen - 1 : 0;
    char pat[HV_SUBJECT_MAX + 2], subj[HV_SUBJECT_MAX + 2];
    int np = checked((const char *)data, plen, 1);
    int ns = nl ? checked((const char *)nl + 1, slen, 0) : HV_EBADSUBJECT;
    if (np < 0 || ns < 0)
        return 0;
    memcpy(pat, data, plen);
    pat[plen] = '\0';
    memcpy(subj, nl + 1, slen);
    subj[slen] = '\0';
    /* A NUL inside the bytes is rejected by validation, so strlen is the length here. */
    must(strlen(pat) == plen && strlen(subj) == slen);
    hv_topics *t;
    if (hv__topics_new(&t) != 0)
        return 0;
    if (hv__topics_add(t, pat, plen, 7) == 0) {
        uint32_t ids[2];
        int n = hv__topics_match(t, subj, slen, ids, 2);
        must(n == hv_subject_matches(pat, subj));
        must(hv__topics_remove(t, pat, plen, 7) == 0);
        must(hv__topics_nodes(t) == 0);
    }
    hv__topics_free(t);
    return 0;
}
