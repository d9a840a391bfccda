/*
 * A raft_uv data directory, read without libraft and without changing anything: the metadata
 * files, the newest snapshot (its .meta and its data), the closed and open segments, every
 * batch checked against its CRC32s. What `hivewire log show|verify` read. The formats are
 * canonical/raft 0.15's (include/raft/uv.h; docs/LOG.md, "On disk").
 *
 * Everything read is outside input: every length is checked against the bytes there, every
 * error names the file and the byte offset.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/le.h"
#include "log/log_int.h"

#define DISK_FORMAT  1u
#define SEGMENT_MAX  (64u << 20) /* raft writes 8 MiB segments; more is not a segment */
#define SNAPSHOT_MAX (1u << 30)
#define CONF_MAX     (1u << 20)
#define BATCH_MAX    (8u << 20) / 32u /* entries in one batch (raft's own bound) */
#define FILES_MAX    100000u
#define LZ4F_MAGIC   0x184D2204u

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- CRC32 as raft computes it (libiberty's: polynomial 0x04c11db7, MSB first, init 0, no
 * final xor) ------------------------------------------------------------------------------ */

uint32_t hv__log_crc32(const uint8_t *p, size_t n, uint32_t crc)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* the same values whoever computes them first */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i << 24;
            for (int k = 0; k < 8; k++)
                c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
            table[i] = c;
        }
        ready = 1;
    }
    for (size_t i = 0; i < n; i++)
        crc = (crc << 8) ^ table[((crc >> 24) ^ p[i]) & 255];
    return crc;
}

/* ---- Files --------------------------------------------------------------------------------- */

static int read_file(const char *dir, const char *name, size_t max, uint8_t **out, size_t *len,
                     char *err, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(err, cap, HV_EIO, "%s: %s", path, strerror(e));
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return fail(err, cap, HV_ETOOBIG, "%s: %lld bytes, more than the %zu a %s may have", path,
                    (long long)st.st_size, max, "file of this kind");
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL) {
        close(fd);
        return HV_ENOMEM;
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(b);
        return fail(err, cap, HV_EIO, "%s: could read only %zu of %zu bytes", path, got, n);
    }
    *out = b;
    *len = n;
    return 0;
}

/* ---- Metadata ------------------------------------------------------------------------------ */

/* metadata1 / metadata2: format, version, term, voted for (4 x u64). The readable one with the
 * higher version is current. */
static int read_metadata(const char *dir, hv_log_store_info *info, char *err, size_t cap)
{
    static const char *const names[2] = { "metadata1", "metadata2" };
    for (int i = 0; i < 2; i++) {
        const char *name = names[i];
        uint8_t *b = NULL;
        size_t n = 0;
        char ignore[256];
        if (read_file(dir, name, 4096, &b, &n, ignore, sizeof(ignore)) != 0)
            continue;
        hv_rd r = { b, n, 0, 0 };
        uint64_t format = hv__rd_u64(&r), version = hv__rd_u64(&r);
        uint64_t term = hv__rd_u64(&r), vote = hv__rd_u64(&r);
        free(b);
        if (r.bad || format != DISK_FORMAT || version == 0 || n != 32)
            return fail(err, cap, HV_EBADFIELD, "%s/%s: not a raft metadata file (%zu bytes)", dir,
                        name, n);
        if (version > info->meta_version) {
            info->meta_version = version;
            info->term = term;
            info->voted_for = vote;
        }
    }
    return 0;
}

/* ---- Snapshots ----------------------------------------------------------------------------- */

static int later(const hv_log_store_info *a, uint64_t term, uint64_t index, uint64_t ts)
{
    if (term != a->snap_term)
        return term > a->snap_term;
    if (index != a->snap_index)
        return index > a->snap_index;
    return ts > a->snap_timestamp;
}

/* The snapshot's data: as written, or LZ4-framed when raft compressed it. */
static int snapshot_data(uint8_t *raw, size_t n, uint8_t **out, size_t *len, const char *what,
                         char *err, size_t cap)
{
    if (n < 4 || hv__ld32(raw) != LZ4F_MAGIC) {
        *out = raw;
        *len = n;
        return 0;
    }
    LZ4F_dctx *d = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return HV_ENOMEM;
    size_t cap_out = 1u << 20, used = 0, off = 0;
    uint8_t *o = malloc(cap_out);
    int rc = o ? 0 : HV_ENOMEM;
    while (rc == 0 && off < n) {
        if (used == cap_out) {
            uint8_t *g = cap_out < SNAPSHOT_MAX ? realloc(o, cap_out * 2) : NULL;
            if (g == NULL) {
                rc = fail(err, cap, HV_ETOOBIG, "%s: decompresses to more than %u bytes", what,
                          SNAPSHOT_MAX);
                break;
            }
            o = g;
            cap_out *= 2;
        }
        size_t dst = cap_out - used, src = n - off;
        size_t hint = LZ4F_decompress(d, o + used, &dst, raw + off, &src, NULL);
        if (LZ4F_isError(hint)) {
            rc = fail(err, cap, HV_EDECOMPRESS, "%s: bad LZ4 frame at byte %zu: %s", what, off,
                      LZ4F_getErrorName(hint));
            break;
        }
        used += dst;
        off += src;
        if (hint == 0)
            break;
        if (src == 0 && dst == 0) {
            rc = fail(err, cap, HV_ETRUNCATED, "%s: LZ4 frame cut short", what);
            break;
        }
    }
    LZ4F_freeDecompressionContext(d);
    free(raw);
    if (rc != 0) {
        free(o);
        return rc;
    }
    *out = o;
    *len = used;
    return 0;
}

/* snapshot-T-I-S.meta: format, crc, configuration index, configuration length (4 x u64), the
 * configuration; crc covers the last two words and the configuration. */
static int read_meta(const char *dir, const char *name, hv_log_store_info *info, char *err,
                     size_t cap)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = read_file(dir, name, CONF_MAX + 32, &b, &n, err, cap);
    if (rc != 0)
        return rc;
    hv_rd r = { b, n, 0, 0 };
    uint64_t format = hv__rd_u64(&r), crc = hv__rd_u64(&r), conf_index = hv__rd_u64(&r);
    uint64_t conf_len = hv__rd_u64(&r);
    if (r.bad || format != DISK_FORMAT)
        rc = fail(err, cap, HV_EBADFIELD, "%s/%s: not a snapshot header", dir, name);
    else if (conf_len == 0 || conf_len > n - 32)
        rc = fail(err, cap, HV_ETRUNCATED, "%s/%s: configuration of %" PRIu64 " bytes, %zu there",
                  dir, name, conf_len, n - 32);
    else if ((uint32_t)crc != hv__log_crc32(b + 32, (size_t)conf_len, hv__log_crc32(b + 16, 16, 0)))
        rc = fail(err, cap, HV_ECHECKSUM, "%s/%s: checksum mismatch", dir, name);
    info->snap_conf_index = conf_index;
    free(b);
    return rc;
}

static int read_snapshot(const char *dir, hv_log_store_info *info, uint8_t **data, size_t *len,
                         char *err, size_t cap)
{
    char name[256];
    snprintf(name, sizeof(name), "snapshot-%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".meta",
             info->snap_term, info->snap_index, info->snap_timestamp);
    int rc = read_meta(dir, name, info, err, cap);
    if (rc != 0)
        return rc;
    name[strlen(name) - 5] = 0;
    uint8_t *raw = NULL;
    size_t n = 0;
    if ((rc = read_file(dir, name, SNAPSHOT_MAX, &raw, &n, err, cap)) != 0)
        return rc;
    char what[4200];
    snprintf(what, sizeof(what), "%s/%s", dir, name);
    return snapshot_data(raw, n, data, len, what, err, cap);
}

/* ---- Segments ------------------------------------------------------------------------------ */

/* One batch at b[off..): crc32 of the header, crc32 of the data, n, n entry headers, the data.
 * Returns 0 and advances *off, or an error (*why says which). */
static int parse_batch(const uint8_t *b, size_t len, size_t *off, uint64_t index,
                       hv_log_store_fn fn, void *ud, hv_log_store_entry *e, const char **why,
                       uint64_t *count)
{
    hv_rd r = { b, len, *off, 0 };
    uint32_t crc1 = hv__rd_u32(&r), crc2 = hv__rd_u32(&r);
    uint64_t n = hv__rd_u64(&r);
    if (r.bad)
        return *why = "batch preamble cut short", HV_ETRUNCATED;
    if (n == 0 || n > BATCH_MAX)
        return *why = "entry count out of range", HV_EBADLEN;
    size_t head = 8 + 16 * (size_t)n;
    if (head > len - (*off + 8))
        return *why = "batch header cut short", HV_ETRUNCATED;
    if (hv__log_crc32(b + *off + 8, head, 0) != crc1)
        return *why = "header checksum mismatch", HV_ECHECKSUM;
    size_t data = *off + 8 + head, total = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *h = b + *off + 16 + 16 * i;
        uint32_t l = hv__ld32(h + 12);
        if (h[8] < 1 || h[8] > 3 || l % 8 != 0)
            return *why = "entry header: bad type or length", HV_EBADFIELD;
        total += l;
        if (total > len - data)
            return *why = "batch data cut short", HV_ETRUNCATED;
    }
    if (hv__log_crc32(b + data, total, 0) != crc2)
        return *why = "data checksum mismatch", HV_ECHECKSUM;
    size_t at = data;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *h = b + *off + 16 + 16 * i;
        e->index = index + i;
        e->term = hv__ld64(h);
        e->type = h[8];
        e->len = hv__ld32(h + 12);
        e->data = b + at;
        e->offset = at;
        at += e->len;
        int rc = fn(ud, e);
        if (rc != 0)
            return *why = "", rc;
    }
    *count = n;
    *off = at;
    return 0;
}

static int only_zeros(const uint8_t *b, size_t from, size_t len)
{
    for (size_t i = from; i < len; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

int hv__log_segment_parse(const uint8_t *b, size_t len, const hv_log_segment *seg,
                          hv_log_store_fn fn, void *ud, hv_log_segment_result *res, char *err,
                          size_t cap)
{
    memset(res, 0, sizeof(*res));
    if (len < 8 || hv__ld64(b) != DISK_FORMAT) {
        if (seg->open && (len < 8 || only_zeros(b, 0, len)))
            return 0; /* prepared, never written */
        return fail(err, cap, HV_EBADVERSION, "%s: not a raft segment (format %" PRIu64 ")",
                    seg->name, len < 8 ? 0 : hv__ld64(b));
    }
    size_t off = 8;
    uint64_t index = seg->first;
    hv_log_store_entry e = { .file = seg->name };
    while (off < len) {
        if (seg->open && only_zeros(b, off, len))
            break; /* the preallocated rest of an open segment */
        const char *why = "";
        uint64_t n = 0;
        size_t at = off;
        int rc = parse_batch(b, len, &off, index, fn, ud, &e, &why, &n);
        if (rc != 0 && !*why)
            return rc; /* the caller's verdict on an entry */
        if (rc != 0 && seg->open) {
            /* a write cut short (a crash, a power loss): raft drops it the same way */
            res->torn_bytes = len - at;
            res->torn_at = at;
            break;
        }
        if (rc != 0)
            return fail(err, cap, rc, "%s: batch at byte %zu: %s", seg->name, at, why);
        index += n;
        res->batches++;
    }
    res->entries = index - seg->first;
    if (!seg->open && index - 1 != seg->end)
        return fail(err, cap, HV_EBADLEN,
                    "%s: holds entries %" PRIu64 "..%" PRIu64 ", its name says ..%" PRIu64,
                    seg->name, seg->first, index - 1, seg->end);
    return 0;
}

static int by_order(const void *a, const void *b)
{
    const hv_log_segment *x = a, *y = b;
    if (x->open != y->open)
        return x->open - y->open;
    uint64_t kx = x->open ? x->counter : x->first, ky = y->open ? y->counter : y->first;
    return kx < ky ? -1 : kx > ky;
}

/* The names in dir: segments (sorted as raft loads them) and the newest complete snapshot. */
static int list_dir(const char *dir, hv_log_store_info *info, hv_log_segment **segs, size_t *nsegs,
                    char *err, size_t cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fail(err, cap, errno == ENOENT ? HV_ENOTFOUND : HV_EIO, "%s: %s", dir,
                    strerror(errno));
    size_t n = 0, room = 64;
    hv_log_segment *s = malloc(room * sizeof(*s));
    struct dirent *de;
    while (s != NULL && (de = readdir(d)) != NULL && n < FILES_MAX) {
        hv_log_segment g;
        memset(&g, 0, sizeof(g));
        unsigned long long a, b, c;
        int used = 0;
        const char *nm = de->d_name;
        if (sscanf(nm, "snapshot-%llu-%llu-%llu.meta%n", &a, &b, &c, &used) == 3 && nm[used] == 0) {
            char data[300];
            snprintf(data, sizeof(data), "%s/snapshot-%llu-%llu-%llu", dir, a, b, c);
            if (access(data, R_OK) == 0 && (!info->snapshot || later(info, a, b, c))) {
                info->snapshot = 1;
                info->snap_term = a;
                info->snap_index = b;
                info->snap_timestamp = c;
            }
            continue;
        }
        if (sscanf(nm, "%llu-%llu%n", &a, &b, &used) == 2 && nm[used] == 0 && strlen(nm) == 33)
            g.first = a, g.end = b;
        else if (sscanf(nm, "open-%llu%n", &a, &used) == 1 && nm[used] == 0)
            g.open = 1, g.counter = a;
        else
            continue;
        if (strlen(nm) >= sizeof(g.name))
            continue; /* raft's names are short: not one of them */
        memcpy(g.name, nm, strlen(nm) + 1);
        if (n == room) {
            hv_log_segment *t = realloc(s, 2 * room * sizeof(*s));
            if (t == NULL)
                break;
            s = t;
            room *= 2;
        }
        s[n++] = g;
    }
    closedir(d);
    if (s == NULL)
        return HV_ENOMEM;
    qsort(s, n, sizeof(*s), by_order);
    *segs = s;
    *nsegs = n;
    return 0;
}

/* Passes the entries on while checking that the indexes follow each other. */
typedef struct walk {
    hv_log_store_fn fn;
    void *ud;
    hv_log_store_info *info;
    uint64_t next; /* the index the next entry must have (0: any) */
} walk;

static int walk_entry(void *ud, const hv_log_store_entry *e)
{
    walk *w = ud;
    w->next = e->index + 1;
    if (w->info->entries == 0)
        w->info->first_index = e->index;
    w->info->last_index = e->index;
    w->info->entries++;
    return w->fn(w->ud, e);
}

static int read_segments(const char *dir, hv_log_segment *s, size_t n, walk *w,
                         hv_log_store_info *info, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        hv_log_segment seg = s[i];
        if (seg.open) /* an open segment continues where the last one ended */
            seg.first = w->next ? w->next : info->snap_index + 1;
        else if (w->next != 0 && seg.first != w->next)
            return fail(err, cap, HV_EBADLEN,
                        "%s/%s: starts at entry %" PRIu64 ", the entry before ends at %" PRIu64
                        ": a gap in the log",
                        dir, seg.name, seg.first, w->next - 1);
        uint8_t *b = NULL;
        size_t len = 0;
        int rc = read_file(dir, seg.name, SEGMENT_MAX, &b, &len, err, cap);
        if (rc != 0)
            return rc;
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, seg.name);
        hv_log_segment_result res;
        char inner[512] = "";
        rc = hv__log_segment_parse(b, len, &seg, walk_entry, w, &res, inner, sizeof(inner));
        free(b);
        if (rc != 0)
            return inner[0] ? fail(err, cap, rc, "%s/%s", dir, inner) : rc;
        info->segments++;
        if (res.torn_bytes) {
            info->torn_bytes += res.torn_bytes;
            snprintf(info->torn_file, sizeof(info->torn_file), "%s", path);
            info->torn_at = res.torn_at;
        }
    }
    return 0;
}

int hv__log_store_open(hv_log_store *s, const char *dir, char *err, size_t cap)
{
    memset(s, 0, sizeof(*s));
    err[0] = 0;
    if (strlen(dir) >= sizeof(s->dir))
        return fail(err, cap, HV_EINVAL, "%.64s...: path too long", dir);
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    hv_log_store_info *info = &s->info;
    int rc = list_dir(dir, info, &s->segs, &s->nsegs, err, cap);
    if (rc == 0)
        rc = read_metadata(dir, info, err, cap);
    if (rc == 0 && info->snapshot)
        rc = read_snapshot(dir, info, &s->snap, &s->snap_len, err, cap);
    if (rc != 0)
        hv__log_store_close(s);
    return rc;
}

int hv__log_store_entries(hv_log_store *s, hv_log_store_fn fn, void *ud, char *err, size_t cap)
{
    hv_log_store_info *info = &s->info;
    walk w = { fn, ud, info, 0 };
    int rc = read_segments(s->dir, s->segs, s->nsegs, &w, info, err, cap);
    if (rc == 0 && !info->snapshot && info->entries && info->first_index != 1)
        rc = fail(err, cap, HV_EBADLEN,
                  "%s: no snapshot, and the log starts at entry %" PRIu64 ": entries 1..%" PRIu64
                  " are missing",
                  s->dir, info->first_index, info->first_index - 1);
    if (rc == 0 && info->snapshot && info->entries && info->first_index > info->snap_index + 1)
        rc =
            fail(err, cap, HV_EBADLEN,
                 "%s: the snapshot ends at entry %" PRIu64 ", the log starts at %" PRIu64 ": a gap",
                 s->dir, info->snap_index, info->first_index);
    return rc;
}

void hv__log_store_close(hv_log_store *s)
{
    free(s->segs);
    free(s->snap);
    s->segs = NULL;
    s->snap = NULL;
    s->nsegs = 0;
}
