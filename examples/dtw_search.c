/*
 * A DTW search: store 200 patterns (sine waves of different phases and speeds), then find the
 * three nearest to a query with the UCR lower-bound cascade, and what it pruned.
 *
 *   cc dtw_search.c $(pkg-config --cflags --libs hivewire) -lm -o dtw_search
 */
#include <math.h>
#include <stdio.h>

#include <hivewire/dtw.h>

#define LEN      64
#define PATTERNS 200

static void wave(double *x, double phase, double speed)
{
    for (int i = 0; i < LEN; i++)
        x[i] = sin(phase + speed * i * 0.1);
}

int main(void)
{
    hv_dtw_opts o;
    hv_dtw_opts_default(&o); /* band 0.1, z-normalised */
    o.len = LEN;
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    int rc = hv_dtw_set_new(&o, PATTERNS, &set);
    if (rc == 0)
        rc = hv_dtw_ws_new(&o, 3, &ws);
    if (rc != 0) {
        fprintf(stderr, "dtw_search: %s\n", hv_strerror(rc));
        return 1;
    }
    double x[LEN];
    for (int i = 0; i < PATTERNS && rc >= 0; i++) {
        wave(x, 0.05 * i, 0.5 + 0.01 * (i % 50));
        rc = hv_dtw_set_add(set, x);
    }
    wave(x, 0.05 * 42, 0.5 + 0.01 * 42); /* pattern 42, exactly */
    hv_dtw_match top[3];
    hv_dtw_stats st;
    hv_dtw_stats_reset(&st);
    int n = rc < 0 ? rc : hv_dtw_search(ws, set, hv_dtw_set_count(set), x, 3, top, &st);
    for (int i = 0; i < n; i++)
        printf("%d. pattern %zu, distance %.6f\n", i + 1, top[i].index, top[i].distance);
    printf("%llu candidates: %llu pruned by LB_Kim, %llu + %llu by LB_Keogh, %llu full DTW\n",
           (unsigned long long)st.candidates, (unsigned long long)st.pruned_kim,
           (unsigned long long)st.pruned_keogh_eq, (unsigned long long)st.pruned_keogh_ec,
           (unsigned long long)st.full_dtw);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
    return n == 3 && top[0].index == 42 ? 0 : 1;
}
