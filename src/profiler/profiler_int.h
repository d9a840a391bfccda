/* Internal layout of the profiler, shared by profiler.c and the report writers. */
#ifndef HV_PROFILER_PROFILER_INT_H
#define HV_PROFILER_PROFILER_INT_H

#include <hivewire/profiler.h>

typedef struct hv__profiler_stage {
    char name[48];
    int kind;
    uint64_t count;
    uint64_t total_ns;
    uint64_t self_ns;
    hv_hist hist; /* inclusive times */
} hv__profiler_stage;

typedef struct hv__profiler_frame {
    int stage;
    uint64_t start_ns;
    uint64_t child_ns; /* total time of the scopes closed directly inside this one */
} hv__profiler_frame;

struct hv_profiler {
    hv_profiler_opts cfg;
    hv_profiler_clock_fn clock;
    void *clock_ctx;
    hv__profiler_frame *stack;
    uint32_t depth;
    uint32_t overflow; /* begins refused at depth_max whose ends have not come yet */
    hv__profiler_stage *stages;
    uint32_t nstages;
    uint64_t dropped;
    uint64_t mismatched;
    uint64_t now_ns_last; /* the latest clock reading */
};

/* Formats a duration with a unit chosen for 3-4 significant digits ("812 ns", "12.3 us"). */
const char *hv__profiler_fmt_ns(char *buf, size_t n, double ns);

/* Log2 bins of a histogram: counts[b] holds the values v with 2^b <= v < 2^(b+1) (bin 0 also
 * holds 0). Returns the number of bins up to the highest non-empty one (<= 64). */
size_t hv__profiler_log2_bins(const hv_hist *h, uint64_t counts[64]);

#endif
