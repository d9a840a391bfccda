/*
 * libFuzzer harness: the JSON form from untrusted text. Whatever hv_json_to_frame() accepts must
 * decode, and must survive binary -> JSON -> binary unchanged. Any violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#define FUZZ_FRAME_MAX (256u << 10)

static uint8_t bin[FUZZ_FRAME_MAX];
static uint8_t again[FUZZ_FRAME_MAX];

#define CHECK(c)              \
    do {                      \
        if (!(c))             \
            __builtin_trap(); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    size_t need = 0;
    int n = hv_json_to_frame((const char *)data, size, bin, sizeof(bin), &need, err, sizeof(err));
    if (n < 0) {
        CHECK(n == HV_ENOBUFS || n == HV_ENOMEM || err[0] != '\0'); /* every error says why */
        return 0;
    }
    hv_frame f;
    hv_msg m;
    CHECK(hv_decode(bin, (size_t)n, NULL, NULL, 0, &f, &m) == n);
    int e = 0;
    char *json = hv_json_from_msg(&f, &m, &e);
    CHECK(json != NULL);
    int k = hv_json_to_frame(json, strlen(json), again, sizeof(again), NULL, NULL, 0);
    CHECK(k == n && memcmp(bin, again, (size_t)n) == 0);
    free(json);
    return 0;
}
