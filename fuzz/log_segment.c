/* Fuzz harness: a raft_uv segment file as `hivewire log verify` reads it (batches, CRC32s,
 * entry headers), open and closed, each entry then through the entry decoder. */
#include <stdlib.h>
#include <string.h>

#include "log/log_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each(void *ud, const hv_log_store_entry *e)
{
    static hv_log_entry out;
    uint64_t *n = ud;
    (void)hv_log_entry_decode(e->data, e->len, &out);
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int open = 0; open <= 1; open++) {
        hv_log_segment seg = { .open = open, .first = 1, .end = 1 + size / 64 };
        strcpy(seg.name, "segment");
        hv_log_segment_result res;
        uint64_t n = 0;
        char err[256];
        int rc = hv__log_segment_parse(data, size, &seg, each, &n, &res, err, sizeof(err));
        if (rc == 0 && n != res.entries)
            abort();
    }
    return 0;
}
