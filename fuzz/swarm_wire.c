/* Fuzzes the swarm's frame decoder: whatever arrives on an agent's inbox (later, from the
 * network through the QUIC transport) decodes to a swarm message or an error, never a crash;
 * what decodes re-encodes and decodes to the same kind, cycle and sender. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/swarm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_msg m, again;
    hv_msg hm, hm2;
    if (hv__sw_decode(data, size, &m, &hm) != 0)
        return 0;
    uint8_t buf[SW_FRAME_MAX];
    int n = m.kind == SW_CURVE ? hv__sw_encode_stream(&hm, m.sender, 1, buf, sizeof(buf))
                               : hv__sw_encode(&m, 1, buf, sizeof(buf));
    if (n < 0)
        return 0; /* decodable but not re-encodable (e.g. a NaN price): refused, fine */
    if (hv__sw_decode(buf, (size_t)n, &again, &hm2) != 0 || again.kind != m.kind ||
        (m.kind != SW_CURVE && again.cycle != m.cycle) || again.sender != m.sender)
        abort();
    return 0;
}
