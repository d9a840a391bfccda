/*
 * Fuzzes the CSV reader: bars and single-column loads, lenient and strict, on arbitrary bytes.
 * The first input byte chooses the options (strict, a row bound, a symbol, a named column,
 * positive values, a small byte bound); the rest is the file. Also lists the file's symbols. Checks
 * the report's invariants, that every loaded bar passed validation and that a positive column holds
 * only values > 0.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bars(const hv_series *s, const hv_csv_report *rep)
{
    if (rep->rows_ok != s->len || rep->rows_ok + rep->rows_bad > rep->rows)
        abort();
    for (size_t i = 0; i < s->len; i++) {
        const hv_bar *b = &s->bars[i];
        if (!(b->close > 0) || !isfinite(b->close) || b->low > b->close || b->high < b->close ||
            !(b->volume >= 0))
            abort();
        if (i > 0 && b->day <= s->bars[i - 1].day)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    hv_csv_opts o = { .size = sizeof(o),
                      .strict = mode & 1,
                      .rows_max = (mode & 2) ? 4 : 0,
                      .positive = (mode & 16) != 0,
                      .bytes_max = (mode & 32) ? 64 : 0 };
    if (mode & 4)
        o.symbol = "MSFT";
    hv_csv_report rep;
    hv_series s;
    hv_series_init(&s);
    int rv = hv_csv_parse_bars(text, len, &o, &s, &rep);
    if (rv > 0)
        abort();
    check_bars(&s, &rep);
    hv_series_fini(&s);

    hv_column c;
    hv_column_init(&c);
    rv = hv_csv_parse_column(text, len, (mode & 8) ? "close" : NULL, &o, &c, &rep);
    if (rv > 0 || rep.rows_ok != c.len)
        abort();
    for (size_t i = 0; i < c.len; i++)
        if (!isfinite(c.v[i]) || (o.positive && !(c.v[i] > 0)))
            abort();
    for (uint32_t i = 0; i < rep.issues_kept; i++) {
        char buf[256];
        hv_csv_issue_format(rep.file, &rep.issues[i], buf, sizeof(buf));
    }
    hv_column_fini(&c);

    char names[4][HV_CSV_SYMBOL_BYTES];
    size_t n = 99;
    rv = hv_csv_parse_symbols(text, len, &o, names, 4, &n);
    if (rv > 0 || n > 4 || (rv == HV_EPARSE && n != 0) || (rv == HV_ENOTFOUND && n != 0))
        abort();
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strlen(names[i]) > HV_CSV_FIELD_BYTES_MAX || strcmp(names[i], names[j]) == 0)
                abort();
    return 0;
}
