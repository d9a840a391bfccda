/*
 * An HVW1 frame: encode a heartbeat, decode it back (a view into the buffer, no allocation),
 * check it is the same message, and print its JSON form.
 *
 *   cc codec_frame.c $(pkg-config --cflags --libs hivewire) -o codec_frame
 */
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/codec.h>

int main(void)
{
    hv_frame f = { .seq = 1,
                   .sender_id = 7,
                   .timestamp_ns = hv_now_ns(),
                   .topic = hv_str_from("agents.7.heartbeat") };
    hv_msg m = { .type = HV_MSG_HEARTBEAT };
    m.heartbeat = (hv_msg_heartbeat){ .memory_bytes = 1 << 20, .load = 0.25f, .active_tasks = 3 };

    uint8_t buf[256];
    size_t needed = 0;
    int len = hv_frame_encode(buf, sizeof(buf), &f, &m, &needed);
    if (len < 0) {
        fprintf(stderr, "codec_frame: encode: %s\n", hv_strerror(len));
        return 1;
    }
    printf("encoded a %s frame of %d bytes\n", hv_msg_type_name(m.type), len);

    hv_frame g;
    hv_msg back;
    int rc = hv_decode(buf, (size_t)len, NULL, NULL, 0, &g, &back);
    if (rc != len || !hv_msg_equal(&m, &back)) {
        fprintf(stderr, "codec_frame: decode: %s\n", rc < 0 ? hv_strerror(rc) : "differs");
        return 1;
    }
    int err = 0;
    char *json = hv_json_from_msg(&g, &back, &err);
    if (json == NULL) {
        fprintf(stderr, "codec_frame: json: %s\n", hv_strerror(err));
        return 1;
    }
    printf("decoded: %s\n", json);
    free(json);
    return 0;
}
