/*
 * Internal pieces the CSV parsers (csv.c) share with the file readers (csv_file.c).
 */
#ifndef HV_MARKET_CSV_INT_H
#define HV_MARKET_CSV_INT_H

#include <hivewire/market.h>

/* Copies opts (NULL: defaults) into *local with the bounds filled in. 0 or HV_EINVAL (size too
 * small). */
int hv__csv_opts_resolve(const hv_csv_opts *opts, hv_csv_opts *local);

/* Keeps an issue in the report and passes it to the callback. */
void hv__csv_issue_emit(const hv_csv_opts *o, hv_csv_report *rep, const hv_csv_issue *is);

/* Reports, as a fatal issue of the whole input (line 0), that it is over o->bytes_max. */
void hv__csv_too_big(const hv_csv_opts *o, hv_csv_report *rep);

#endif
