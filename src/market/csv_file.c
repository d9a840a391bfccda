/*
 * File forms of the CSV parsers: a bounded read of the whole file into memory, then the buffer
 * parsers of csv.c. The only file I/O of the market area.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hivewire/market.h>

#include "market/csv_int.h"

/* Grows buf to hold more input, never beyond max_bytes + 1 (one byte past the bound is enough
 * to know the file is too big). Returns 0, HV_ETOOBIG, HV_ENOMEM. */
static int grow_bounded(char **buf, size_t *cap, size_t max_bytes)
{
    size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX;
    if (*cap >= limit)
        return HV_ETOOBIG;
    size_t ncap = *cap <= limit / 2 ? *cap * 2 : limit;
    char *nb = realloc(*buf, ncap);
    if (nb == NULL)
        return HV_ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}

/* Reads a whole stream into a malloc'd buffer of at most max_bytes + 1 bytes. */
static int read_bounded(FILE *f, size_t max_bytes, char **out, size_t *out_len)
{
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
        return HV_EISDIR; /* a directory opens for reading; its read fails with EISDIR */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rv = buf == NULL ? HV_ENOMEM : 0;
    while (rv == 0) {
        if (len == cap && (rv = grow_bounded(&buf, &cap, max_bytes)) != 0)
            break;
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            rv = !ferror(f) ? 1 : errno == EISDIR ? HV_EISDIR : HV_EIO;
    }
    if (rv == 1 && len > max_bytes)
        rv = HV_ETOOBIG;
    if (rv != 1) {
        free(buf);
        return rv;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

typedef enum { LOAD_BARS, LOAD_COLUMN } load_kind;

/* Reads f (named `name` in reports) and parses it as bars into `bars` or as a column into
 * `col`. A stream over the byte bound is reported as an issue of the file. */
static int load(FILE *f, const char *name, load_kind kind, const char *column,
                const hv_csv_opts *opts, void *out, hv_csv_report *rep)
{
    hv_csv_report local_rep;
    hv_csv_opts o;
    if (rep == NULL)
        rep = &local_rep;
    memset(rep, 0, sizeof(*rep));
    int rv = hv__csv_opts_resolve(opts, &o);
    if (o.file == NULL)
        o.file = name;
    rep->file = o.file != NULL ? o.file : "<memory>";
    if (rv != 0 || out == NULL)
        return HV_EINVAL;
    char *buf = NULL;
    size_t len = 0;
    rv = read_bounded(f, o.bytes_max, &buf, &len);
    if (rv == HV_ETOOBIG)
        hv__csv_too_big(&o, rep);
    if (rv != 0)
        return rv;
    rv = kind == LOAD_BARS ? hv_csv_parse_bars(buf, len, &o, out, rep)
                           : hv_csv_parse_column(buf, len, column, &o, out, rep);
    free(buf);
    return rv;
}

static int load_path(const char *path, load_kind kind, const char *column, const hv_csv_opts *opts,
                     void *out, hv_csv_report *rep)
{
    if (path == NULL) {
        if (rep != NULL)
            memset(rep, 0, sizeof(*rep));
        return HV_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int rv = hv_err_from_errno(errno);
        if (rep != NULL) {
            memset(rep, 0, sizeof(*rep));
            rep->file = opts != NULL && opts->file != NULL ? opts->file : path;
        }
        return rv;
    }
    int rv = load(f, path, kind, column, opts, out, rep);
    fclose(f);
    return rv;
}

int hv_csv_load_bars(const char *path, const hv_csv_opts *opts, hv_series *out, hv_csv_report *rep)
{
    return load_path(path, LOAD_BARS, NULL, opts, out, rep);
}

int hv_csv_load_column(const char *path, const char *name, const hv_csv_opts *opts, hv_column *out,
                       hv_csv_report *rep)
{
    return load_path(path, LOAD_COLUMN, name, opts, out, rep);
}

int hv_csv_read_bars(FILE *f, const hv_csv_opts *opts, hv_series *out, hv_csv_report *rep)
{
    if (f == NULL)
        return HV_EINVAL;
    return load(f, "<stream>", LOAD_BARS, NULL, opts, out, rep);
}

int hv_csv_read_column(FILE *f, const char *name, const hv_csv_opts *opts, hv_column *out,
                       hv_csv_report *rep)
{
    if (f == NULL)
        return HV_EINVAL;
    return load(f, "<stream>", LOAD_COLUMN, name, opts, out, rep);
}

int hv_csv_load_symbols(const char *path, const hv_csv_opts *opts,
                        char (*names)[HV_CSV_SYMBOL_BYTES], size_t cap, size_t *count)
{
    hv_csv_opts o;
    if (count != NULL)
        *count = 0;
    if (path == NULL || hv__csv_opts_resolve(opts, &o) != 0)
        return HV_EINVAL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hv_err_from_errno(errno);
    char *buf = NULL;
    size_t len = 0;
    int rv = read_bounded(f, o.bytes_max, &buf, &len);
    fclose(f);
    if (rv != 0)
        return rv;
    rv = hv_csv_parse_symbols(buf, len, &o, names, cap, count);
    free(buf);
    return rv;
}
