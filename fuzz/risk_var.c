/*
 * Fuzzes the path of `hivewire var`: arbitrary bytes -> one numeric column -> every VaR/ES
 * method and the rolling window. Checks that each call either fails with a documented error or
 * returns finite values with ES >= VaR, and that the rolling historical VaR equals the static
 * one on the last window (a differential check).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>
#include <hivewire/risk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const double confs[8] = { 0.5, 0.9, 0.95, 0.975, 0.99, 0.999, 0.01, 0.9999 };

static int known_error(int rv)
{
    return rv == HV_ETOOFEWOBS || rv == HV_EINVAL || rv == HV_ERANGE;
}

static void check_methods(const double *r, size_t n, double q, double *scratch)
{
    for (int m = 0; m < 4; m++) {
        hv_var_opts o = { .size = sizeof(o),
                          .method = (hv_var_method)m,
                          .confidence = q,
                          .mc_sims = 64,
                          .mc_seed = 1 };
        hv_var_es out;
        int rv = hv_var_estimate(r, n, &o, scratch, n > 64 ? n : 64, &out);
        /* Historical needs one observation in the tail: n (1 - q) >= 1 (to 1e-9). */
        if (m == HV_VAR_HISTORICAL && rv == 0 && (double)n * (1.0 - q) < 1.0 - 1e-9)
            abort();
        if (m == HV_VAR_HISTORICAL && rv == HV_ETOOFEWOBS && n > 0 &&
            (double)n * (1.0 - q) >= 1.0 - 1e-9)
            abort();
        if (rv != 0) {
            if (!known_error(rv))
                abort();
            continue;
        }
        if (!isfinite(out.var) || !isfinite(out.es))
            abort();
        if (out.es < out.var - 1e-9 * fabs(out.var) - 1e-300)
            abort();
    }
}

static void check_rolling(const double *r, size_t n, size_t window, double q, double *scratch)
{
    hv_var_roll roll;
    if (hv_var_roll_init(&roll, window, q) != 0)
        abort();
    size_t start = 0, count = 0; /* the accepted returns, for the static comparison */
    double *kept = malloc((n ? n : 1) * sizeof(double));
    if (kept == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        int rv = hv_var_roll_push(&roll, r[i]);
        if (rv == 0)
            kept[count++] = r[i];
        else if (rv != HV_ERANGE && rv != HV_EINVAL)
            abort();
    }
    if (count > window)
        start = count - window;
    hv_var_es a, b;
    int ra = hv_var_roll_historical(&roll, &a);
    int rb = hv_var_historical(kept + start, count - start, q, scratch, &b);
    if (ra != rb || (ra == 0 && a.var != b.var))
        abort();
    if (ra == 0 && (double)(count - start) * (1.0 - q) < 1.0 - 1e-9)
        abort(); /* a tail with no observation must be HV_ETOOFEWOBS */
    hv_var_roll_gaussian(&roll, &a);
    hv_var_roll_cornish_fisher(&roll, &a);
    free(kept);
    hv_var_roll_fini(&roll);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    hv_csv_opts o = { .size = sizeof(o), .rows_max = 4096 };
    hv_column c;
    hv_column_init(&c);
    if (hv_csv_parse_column((const char *)data + 1, size - 1, NULL, &o, &c, NULL) == 0) {
        if (mode & 0x80) {
            long n = hv_log_returns(c.v, c.len, c.v);
            c.len = n < 0 ? 0 : (size_t)n;
        }
        double *scratch = malloc((c.len > 64 ? c.len : 64) * sizeof(double));
        if (scratch == NULL)
            abort();
        double q = confs[mode & 7];
        check_methods(c.v, c.len, q, scratch);
        check_rolling(c.v, c.len, 1 + ((mode >> 3) & 15), q, scratch);
        free(scratch);
    }
    hv_column_fini(&c);
    return 0;
}
