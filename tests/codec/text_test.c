/*
 * The codec's text checks (src/codec/text.h) against byte-by-byte references. CMake builds this
 * file twice: as it is, which tests the 16-byte vector checks where the target has them, and
 * with HV__TEXT_V16=0, which tests the byte-by-byte ones that other targets use.
 */
#include "hv_test.h"

#include <stdlib.h>
#include <string.h>

#include <hivewire/rng.h>

#include "codec/text.h"

static int topic_reference(const uint8_t *s, size_t n, int wild)
{
    if (n == 0 || n > HV_TOPIC_MAX_BYTES)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || (!wild && (s[i] == '*' || s[i] == '>')))
            return 0;
    return 1;
}

static int ascii_reference(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || s[i] >= 0x80)
            return 0;
    return 1;
}

/* The word-at-a-time text checks agree with byte-by-byte ones for every length and byte. */
static void text_checks_agree_with_byte_by_byte_checks(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 99);
    static uint8_t s[300];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)hv_rng_below(&r, sizeof(s));
        for (size_t i = 0; i < n; i++)
            s[i] = (uint8_t)(0x21 + hv_rng_below(&r, 0x5e)); /* valid topic bytes */
        int bad = (int)hv_rng_below(&r, 3);
        for (int k = 0; k < bad && n > 0; k++) /* then a few arbitrary bytes anywhere */
            s[hv_rng_below(&r, n)] = (uint8_t)hv_rng_next(&r);
        /* In a heap block of exactly n bytes, so the sanitizer build catches any read past
         * the text. */
        uint8_t *t = malloc(n ? n : 1);
        assert_non_null(t);
        memcpy(t, s, n);
        for (int wild = 0; wild < 2; wild++)
            assert_int_equal(hv__topic_valid((const char *)t, n, wild),
                             topic_reference(t, n, wild));
        if (ascii_reference(t, n))
            assert_true(hv__utf8_valid(t, n));
        else if (memchr(t, 0, n) != NULL)
            assert_false(hv__utf8_valid(t, n));
        free(t);
    }
}

/* Multibyte UTF-8 takes the slow path and is accepted when valid, at every offset. */
static void multibyte_text_is_accepted_anywhere(void **state)
{
    (void)state;
    static const char euro[] = "\xe2\x82\xac";
    char s[64];
    for (size_t at = 0; at + 3 <= sizeof(s); at++) {
        memset(s, 'a', sizeof(s));
        memcpy(s + at, euro, 3);
        assert_true(hv__utf8_valid((const uint8_t *)s, sizeof(s)));
        s[at + 1] = 'a'; /* a lead byte without its continuation */
        assert_false(hv__utf8_valid((const uint8_t *)s, sizeof(s)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_checks_agree_with_byte_by_byte_checks),
        cmocka_unit_test(multibyte_text_is_accepted_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
