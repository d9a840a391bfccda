/* Fuzz harness: byte streams drive the exchange, portfolio and limits through random
 * operations; any broken invariant (or crash, or sanitizer report) is a finding. */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/trading/exchange_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) /* the invariant checks are O(orders) per poll */
        return 0;
    int line = hv_sim_run(data, size);
    if (line != 0) {
        fprintf(stderr, "trading_exchange: invariant at exchange_sim.h:%d failed\n", line);
        abort();
    }
    return 0;
}
