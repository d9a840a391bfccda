#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hivewire/common.h>

#include "cli/cli.h"
#include "platform/platform.h"

int hv__cli_read_all(FILE *f, size_t max_bytes, uint8_t **out, size_t *out_len)
{
    /* A directory opens (and on some systems reads as empty): say what it is. */
    struct stat st;
    int fd = fileno(f);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        return HV_EISDIR;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return HV_ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= max_bytes) {
                free(buf);
                return HV_ETOOBIG;
            }
            size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                return HV_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                return e == EISDIR ? HV_EISDIR : HV_EIO;
            }
            break;
        }
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int hv__cli_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hv_err_from_errno(errno);
    int rv = hv__cli_read_all(f, max_bytes, out, out_len);
    fclose(f);
    return rv;
}

int hv__cli_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return HV_EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return HV_EINVAL;
    *out = v;
    return 0;
}

int hv__cli_parse_double(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return HV_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0')
        return HV_EINVAL;
    *out = v;
    return 0;
}

int hv__cli_hivewire_path(char *buf, size_t cap)
{
    int n = hv__exe_path(buf, cap);
    if (n < 0)
        return n;
    char *base = strrchr(buf, '/') + 1; /* an absolute path */
    if (strcmp(base, "hivewire") == 0)
        return 0;
    if ((size_t)(base - buf) + sizeof("hivewire") > cap)
        return HV_ENOBUFS;
    memcpy(base, "hivewire", sizeof("hivewire"));
    return 0;
}

void hv__cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hivewire %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
