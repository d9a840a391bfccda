/*
 * Counts the process's heap allocations for benchmarks ("allocations per message"), by
 * interposing malloc and friends in the hivewire executable and forwarding to glibc.
 * Disabled under sanitizers, which interpose the allocator themselves.
 */
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#if defined(HV_SANITIZED) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
uint64_t hv_bench_allocs(void)
{
    return UINT64_MAX;
}
#else
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t alloc_count;

static inline void count(void)
{
    __atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED);
}

uint64_t hv_bench_allocs(void)
{
    return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
}

/* Default visibility: the executable is built with hidden visibility, and only exported
 * definitions interpose the allocator for shared libraries (jansson, msgpack-c, protobuf-c). */
#define HV_INTERPOSE __attribute__((visibility("default")))
HV_INTERPOSE void *malloc(size_t n);
HV_INTERPOSE void *calloc(size_t a, size_t b);
HV_INTERPOSE void *realloc(void *p, size_t n);
HV_INTERPOSE void free(void *p);
HV_INTERPOSE int posix_memalign(void **out, size_t align, size_t n);
HV_INTERPOSE void *aligned_alloc(size_t align, size_t n);

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    count();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    count();
    void *p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}
#endif
