/* Fuzz harness: the decision log's entry decoder. Whatever it accepts re-encodes to the same
 * bytes (the format is canonical) and hashes without reading past them. */
#include <stdlib.h>
#include <string.h>

#include <hivewire/log.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hv_log_entry e;
    if (hv_log_entry_decode(data, size, &e) != 0)
        return 0;
    static uint8_t buf[HV_LOG_ENTRY_MAX];
    size_t len = 0;
    if (hv_log_entry_encode(&e, buf, sizeof(buf), &len) != 0 || len != size ||
        memcmp(buf, data, size) != 0)
        abort();
    uint8_t h[HV_LOG_HASH_BYTES];
    hv_log_entry_hash(data, h);
    return 0;
}
