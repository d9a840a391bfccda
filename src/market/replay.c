/*
 * The replay feed: a clock-driven state machine over an array of bars. It owns no memory, reads
 * no clock and never sleeps; the caller passes now_ns and gets back the next due time.
 */
#include <math.h>
#include <string.h>

#include <hivewire/market.h>

#include "core/field.h"

#define DAY_NS HV_SIM_BAR_NS_DEFAULT

size_t hv_sim_bars_max(uint64_t bar_ns)
{
    if (bar_ns == 0)
        return SIZE_MAX;
    uint64_t n = (UINT64_MAX - HV_SIM_TIME_MARGIN_NS) / bar_ns + 1;
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

void hv_replay_opts_default(hv_replay_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->bar_ns = DAY_NS;
    o->ticks_per_bar = 1;
}

int hv_replay_opts_check(const hv_replay_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_replay_opts)");
    if (!isfinite(o->speed) || o->speed < 0)
        return hv__field_fail(err, "speed",
                              "must be a finite number >= 0 (0: as fast as possible)");
    if (o->ticks_per_bar > HV_REPLAY_TICKS_MAX)
        return hv__field_fail(err, "ticks_per_bar", "must be at most 4096");
    return 0;
}

int hv_replay_init(hv_replay *r, const hv_bar *bars, size_t n, const hv_replay_opts *opts,
                   uint64_t start_ns)
{
    hv_replay_opts o;
    hv_replay_opts_default(&o);
    if (r == NULL || (bars == NULL && n > 0))
        return HV_EINVAL;
    if (opts != NULL) {
        if (hv_replay_opts_check(opts, NULL) != 0)
            return HV_EINVAL;
        o = *opts;
    }
    uint32_t ticks = o.ticks_per_bar < 1 ? 1 : o.ticks_per_bar;
    if (n > UINT64_MAX / ticks)
        return HV_EOVERFLOW;
    double interval = 0;
    if (o.speed > 0) {
        interval = (double)(o.bar_ns ? o.bar_ns : DAY_NS) / o.speed / ticks;
        if (interval > 1e18)
            return HV_ERANGE;
    }
    memset(r, 0, sizeof(*r));
    r->bars = bars;
    r->nbars = n;
    r->ticks = ticks;
    r->interval_ns = (uint64_t)llround(interval);
    r->start_ns = start_ns;
    return 0;
}

uint64_t hv_replay_remaining(const hv_replay *r)
{
    return (uint64_t)r->nbars * r->ticks - r->seq;
}

/* Due time of event `seq`, saturating at UINT64_MAX - 1 (UINT64_MAX means "no more"). */
static uint64_t due(const hv_replay *r, uint64_t seq)
{
    if (r->interval_ns == 0)
        return r->start_ns;
    if (seq > (UINT64_MAX - 1 - r->start_ns) / r->interval_ns)
        return UINT64_MAX - 1;
    return r->start_ns + seq * r->interval_ns;
}

/* Price of tick j of k along open -> low -> high -> close (or open -> high -> low -> close
 * for a falling bar), three equal segments of the path parameter. */
static double tick_price(const hv_bar *b, uint32_t j, uint32_t k)
{
    int up = b->close >= b->open;
    double pts[4] = { b->open, up ? b->low : b->high, up ? b->high : b->low, b->close };
    if (j + 1 >= k)
        return b->close;
    double s = 3.0 * (double)j / (double)(k - 1);
    int seg = (int)s;
    if (seg > 2)
        seg = 2;
    double frac = s - seg;
    return pts[seg] + frac * (pts[seg + 1] - pts[seg]);
}

int hv_replay_poll(hv_replay *r, uint64_t now_ns, hv_replay_event *ev, uint64_t *next_ns)
{
    uint64_t total = (uint64_t)r->nbars * r->ticks;
    if (r->seq >= total) {
        if (next_ns != NULL)
            *next_ns = UINT64_MAX;
        return HV_ECLOSED;
    }
    uint64_t d = due(r, r->seq);
    if (now_ns < d) {
        if (next_ns != NULL)
            *next_ns = d;
        return 0;
    }
    size_t bi = (size_t)(r->seq / r->ticks);
    uint32_t tick = (uint32_t)(r->seq % r->ticks);
    const hv_bar *b = &r->bars[bi];
    ev->due_ns = d;
    ev->seq = r->seq;
    ev->bar_index = bi;
    ev->tick = tick;
    ev->last_in_bar = tick + 1 == r->ticks;
    ev->day = b->day;
    ev->bar = b;
    ev->price = r->ticks == 1 ? b->close : tick_price(b, tick, r->ticks);
    ev->volume = b->volume / r->ticks;
    if (r->interval_ns > 0 && now_ns - d > r->interval_ns)
        r->late++;
    r->seq++;
    if (next_ns != NULL)
        *next_ns = r->seq < total ? due(r, r->seq) : UINT64_MAX;
    return 1;
}
