/*
 * Fuzz harness for the `hivewire dtw` series file parser: any bytes must parse or fail with a
 * located error, never crash; on success the offsets must describe the values exactly, and a
 * parsed file is pushed through a small search to exercise the same path as the CLI.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/dtw.h>

#include "dtw/dtw_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void search_rows(const hv__dtw_series_file *f, int znorm)
{
    size_t len = f->offsets[1];
    if (len == 0 || len > 256)
        return;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = len;
    p.band = 0.25;
    p.znorm = znorm; /* raw values reach the search with huge magnitudes: inf, never NaN */
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    if (hv_dtw_set_new(&p, f->rows, &set) != 0)
        return;
    if (hv_dtw_ws_new(&p, 2, &ws) != 0) {
        hv_dtw_set_free(set);
        return;
    }
    for (size_t i = 0; i < f->rows && i < 64; i++)
        if (f->offsets[i + 1] - f->offsets[i] == len)
            check(hv_dtw_set_add(set, f->values + f->offsets[i]) >= 0);
    hv_dtw_match m[2];
    long got = hv_dtw_search(ws, set, hv_dtw_set_count(set), f->values, 2, m, NULL);
    check(got >= 0 && got <= 2);
    for (long i = 0; i < got; i++)
        check(m[i].distance >= 0 && (i == 0 || m[i - 1].distance <= m[i].distance));
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv__dtw_series_file f;
    hv__dtw_parse_error e;
    int rv = hv__dtw_parse_series((const char *)data, size, &f, &e);
    if (rv != 0) {
        check(rv == HV_EPARSE || rv == HV_ETOOBIG || rv == HV_ENOMEM);
        check(e.line >= 1 && e.column >= 1 && e.msg[0] != '\0');
        check(f.values == NULL && f.rows == 0);
        return 0;
    }
    check(f.rows >= 1 && f.offsets[0] == 0 && f.offsets[f.rows] == f.nvalues);
    for (size_t i = 0; i < f.rows; i++)
        check(f.offsets[i + 1] > f.offsets[i]);
    search_rows(&f, size % 2 == 0);
    hv__dtw_series_file_fini(&f);
    return 0;
}
