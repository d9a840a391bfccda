/*
 * Value at risk: one-day VaR and expected shortfall at 99% of 1,000 seeded returns with fat
 * tails, by the historical, Gaussian and Cornish-Fisher methods, then a rolling 250-day window.
 *
 *   cc var.c $(pkg-config --cflags --libs hivewire) -o var
 */
#include <stdio.h>

#include <hivewire/risk.h>

#define N 1000

int main(void)
{
    static double returns[N], scratch[N];
    hv_rng rng;
    hv_rng_seed(&rng, 42);
    for (int i = 0; i < N; i++) /* 1% daily volatility, one day in twenty three times that */
        returns[i] = 0.0003 + hv_rng_normal(&rng) * (i % 20 == 0 ? 0.03 : 0.01);

    hv_var_opts o;
    hv_var_opts_default(&o); /* historical at 0.99 */
    const hv_var_method methods[] = { HV_VAR_HISTORICAL, HV_VAR_GAUSSIAN, HV_VAR_CORNISH_FISHER };
    for (int i = 0; i < 3; i++) {
        o.method = methods[i];
        hv_var_es r;
        int rc = hv_var_estimate(returns, N, &o, scratch, N, &r);
        if (rc != 0) {
            fprintf(stderr, "var: %s: %s\n", hv_var_method_name(o.method), hv_strerror(rc));
            return 1;
        }
        printf("%-15s VaR %.4f  ES %.4f\n", hv_var_method_name(o.method), r.var, r.es);
    }

    hv_var_roll roll;
    if (hv_var_roll_init(&roll, 250, 0.99) != 0)
        return 1;
    for (int i = 0; i < N; i++)
        hv_var_roll_push(&roll, returns[i]);
    hv_var_es last;
    int rc = hv_var_roll_historical(&roll, &last);
    hv_var_roll_fini(&roll);
    if (rc != 0)
        return 1;
    printf("last 250 days  VaR %.4f  ES %.4f\n", last.var, last.es);
    return last.es >= last.var ? 0 : 1;
}
