/* Fuzz harness: the log's snapshot decoder (its own state, and the exchange, portfolio and
 * limits states inside). Whatever it restores snapshots back to the same bytes, and then takes
 * the next entries of a run without tripping an assertion of the exchange or the limits. */
#include <stdlib.h>
#include <string.h>

#include <hivewire/log.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void next(hv_log_fsm *f, hv_log_entry *e)
{
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    e->seq = st.seq + 1;
    memcpy(e->prev, st.head, sizeof(e->prev));
    uint8_t buf[HV_LOG_ENTRY_MAX];
    size_t len;
    if (hv_log_entry_encode(e, buf, sizeof(buf), &len) == 0)
        (void)hv_log_fsm_apply(f, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv_log_fsm *f = NULL;
    if (size > (1u << 20) || hv_log_fsm_new(NULL, &f) != 0)
        return 0;
    if (hv_log_fsm_restore(f, data, size) == 0) {
        uint8_t *b = NULL;
        size_t len = 0;
        if (hv_log_fsm_snapshot(f, &b, &len) != 0 || len != size || memcmp(b, data, size) != 0)
            abort();
        free(b);
        hv_log_status st;
        hv_log_fsm_status(f, &st);
        static hv_log_entry e;
        memset(&e, 0, sizeof(e));
        if (st.cycle_open) {
            e.type = HV_LOG_CYCLE_END;
            e.end.cycle = st.cycle_last;
            next(f, &e);
        }
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_CYCLE;
        e.cycle.cycle = st.cycle_last == UINT64_MAX ? 0 : st.cycle_last + 1;
        e.cycle.bar = (hv_bar){ 1, 100, 101, 99, 100, 100, 1e6 };
        next(f, &e);
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_CYCLE_END;
        e.end.cycle = st.cycle_last == UINT64_MAX ? 0 : st.cycle_last + 1;
        next(f, &e);
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_FINISH;
        e.finish.cycles = e.end.cycle + 1;
        next(f, &e);
    }
    hv_log_fsm_free(f);
    return 0;
}
