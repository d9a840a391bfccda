/* What the codec's commands share: numeric options and reading frames (cli_util.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/codec.h>

#include "cli/cli.h"
#include "codec/cli_util.h"
#include "codec/codec_int.h"

int hv__frame_reader_init(hv__frame_reader *r, const char *cmd, const uint8_t *in, size_t len,
                          size_t frame_max)
{
    *r = (hv__frame_reader){ .cmd = cmd, .in = in, .len = len, .frame_max = frame_max };
    hv_codec_opts co = { .size = sizeof(co),
                         .frame_max_bytes = (uint32_t)frame_max,
                         .intern_max = HV_INTERN_MAX_CEILING,
                         .intern_bytes_max = HV_INTERN_BYTES_CEILING };
    return hv_codec_new(&co, &r->codec);
}

void hv__frame_reader_fini(hv__frame_reader *r)
{
    hv_codec_free(r->codec);
    free(r->scratch);
    r->codec = NULL;
    r->scratch = NULL;
}

int hv__frame_reader_fail(const hv__frame_reader *r, size_t k, const char *fmt, ...)
{
    char what[512], inner[48] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (k > 0)
        snprintf(inner, sizeof(inner), ", its frame %zu", k);
    hv__cli_error(r->cmd, "frame %zu at byte %zu%s: %s", r->frame, r->at, inner, what);
    return -1;
}

/* The frame at p (len bytes left) failed with rv: say why, in the decoder's own words. */
static int frame_failed(hv__frame_reader *r, const uint8_t *p, size_t len, size_t k, int rv)
{
    char why[384] = "";
    if (rv == HV_EBADINTERN) {
        snprintf(why, sizeof(why), "%s", hv_codec_error_detail(r->codec));
    } else if (len > 0) {
        if (r->scratch == NULL)
            r->scratch = malloc(r->frame_max);
        hv_codec_limits lim;
        hv_codec_limits_get(r->codec, &lim);
        if (hv__frame_explain(p, len, &lim, r->scratch, r->scratch ? r->frame_max : 0, why,
                              sizeof(why)) != rv)
            why[0] = '\0';
    }
    return hv__frame_reader_fail(r, k, "%s (%s)", why[0] ? why : hv_strerror(rv),
                                 hv_err_name(rv) ? hv_err_name(rv) : "?");
}

int hv__frame_reader_next(hv__frame_reader *r, hv_frame *f, hv_msg *m)
{
    if (r->next >= r->len)
        return 0;
    r->frame++;
    r->at = r->next;
    int n = hv_codec_decode(r->codec, r->in + r->at, r->len - r->at, f, m);
    if (n < 0)
        return frame_failed(r, r->in + r->at, r->len - r->at, 0, n);
    r->next += (size_t)n;
    return 1;
}

/* The batch's frames and its count disagree (hv_batch_next() said HV_EBADLEN). */
static int count_failed(hv__frame_reader *r, const hv_msg_batch *b, const hv_batch_iter *it,
                        size_t seen)
{
    hv_frame f;
    if (it->remaining > 0 && hv_frame_parse(it->p, it->left, &it->lim, &f) != HV_ETRUNCATED)
        return frame_failed(r, it->p, it->left, seen + 1, HV_EBADLEN); /* its header_len */
    if (it->remaining == 0)
        return hv__frame_reader_fail(r, 0,
                                     "the batch's count is %u, but %zu bytes follow its frame %zu "
                                     "(HV_EBADLEN)",
                                     b->count, it->left, seen);
    return hv__frame_reader_fail(r, 0,
                                 "the batch's count is %u, but its frame %zu is cut short (%zu "
                                 "bytes left) (HV_EBADLEN)",
                                 b->count, seen + 1, it->left);
}

int hv__frame_reader_batch(hv__frame_reader *r, const hv_msg_batch *b, hv__frame_fn fn, void *arg)
{
    hv_batch_iter it;
    hv_codec_limits lim;
    hv_codec_limits_get(r->codec, &lim);
    hv_batch_iter_init(&it, b, &lim);
    const uint8_t *p;
    size_t len, k = 0;
    int rv;
    while ((rv = hv_batch_next(&it, &p, &len)) == 1) {
        hv_frame f;
        hv_msg m;
        k++;
        int n = hv_codec_decode(r->codec, p, len, &f, &m);
        if (n < 0)
            return frame_failed(r, p, len, k, n);
        if ((n = fn(arg, &f, &m, k)) != 0)
            return n;
    }
    if (rv == HV_EBADLEN)
        return count_failed(r, b, &it, k);
    return rv == 0 ? 0 : frame_failed(r, it.p, it.left, k + 1, rv);
}
