/*
 * Text checks, the part that is not inline (text.h): UTF-8 that is not plain ASCII, checked
 * sequence by sequence.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec/text.h"

static int utf8_slow(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values beyond U+10FFFF. */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

/* The rest of hv__utf8_valid(), for text that is not plain ASCII. */
int hv__utf8_valid_slow(const uint8_t *s, size_t n)
{
    if (memchr(s, 0, n) != NULL)
        return 0;
    return utf8_slow(s, n);
}
