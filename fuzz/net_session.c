/*
 * libFuzzer harness over the session's input: the fuzz input is a script of chunks, each
 * addressed to the control stream or to one of four data streams, fed to a server session and
 * then (after a handshake of its own) to a client session. Checks: no crash, no read outside the
 * input, the buffered bytes stay within their bounds, and a session that returned an error is
 * never asked for more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#include "net/session.h"

static int frame_cb(void *user, const hv_session_frame *f)
{
    /* Every delivered frame must parse as a whole frame. */
    hv_frame fr;
    if (hv_frame_parse(f->frame, f->len, NULL, &fr) != (int)f->len)
        abort();
    (void)user;
    return (f->seq & 7) == 3 ? HV_EFULL : 0;
}

static void rand_cb(void *user, uint8_t *dst, size_t len)
{
    (void)user;
    memset(dst, 0x5a, len);
}

static void run(int server, const uint8_t *data, size_t size)
{
    hv_session_opts o = { .size = sizeof(o),
                          .is_server = server,
                          .local_id = 1,
                          .frame_max_bytes = 1024,
                          .rx_buffer_bytes = 4096,
                          .lane_buffer_bytes = 4096,
                          .lanes_max = 4,
                          .intern_max = 4,
                          .intern_bytes_max = 64,
                          .on_frame = frame_cb,
                          .rand = rand_cb };
    hv_session *s;
    if (hv__session_new(&o, &s) != 0)
        abort();
    uint64_t now = 1;
    hv__session_connect(s, now);
    size_t off = 0;
    while (off + 3 <= size) {
        uint8_t sel = data[off];
        size_t n = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (n > size - off)
            n = size - off;
        int64_t key = (sel & 7) == 0 ? HV_SESSION_CONTROL : (int64_t)(sel & 7);
        now += (uint64_t)(sel >> 3) * 1000000u;
        int rv = hv__session_rx(s, key, data + off, n, now);
        off += n;
        if (hv__session_buffered_bytes(s) > 64 * 1024)
            abort();
        if (rv < 0 && rv != HV_ESTATE)
            break;
        if (sel & 0x80)
            hv__session_rx_resume(s, now);
        if (sel & 0x40)
            hv__session_handle_expiry(s, hv__session_expiry(s));
        /* Drain what the session wants to send, as a transport would. */
        int lane;
        while ((lane = hv__session_tx_next_lane(s, NULL)) != HV_ENOTFOUND) {
            const uint8_t *base[3];
            size_t len[3];
            uint64_t o64;
            int k = hv__session_tx_peek(s, lane, base, len, &o64);
            if (k <= 0)
                abort();
            hv__session_tx_advance(s, lane, len[0]);
            hv__session_tx_acked(s, lane, o64 + len[0]);
        }
    }
    hv__session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(1, data, size);
    run(0, data, size);
    return 0;
}
