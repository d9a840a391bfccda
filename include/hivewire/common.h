/*
 * hivewire: common definitions shared by every area of the library.
 *
 * Errors: every function that can fail returns 0 (or a non-negative count) on success and a
 * negative HV_E* code on failure. The codes are stable: they travel on the wire inside HVW1
 * error messages, so a code, once published, never changes its number or meaning.
 */
#ifndef HIVEWIRE_COMMON_H
#define HIVEWIRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(HV_STATIC_ONLY)
#define HV_EXTERN __attribute__((visibility("default")))
#else
#define HV_EXTERN
#endif

#define HV_VERSION_MAJOR  0
#define HV_VERSION_MINOR  1
#define HV_VERSION_PATCH  0
#define HV_VERSION_STRING "0.1.0"

/*
 * The error table. X(NAME, value, message). Numbers are grouped by area:
 *   -1 ..  -99  general          -100 .. -199 codec / wire format
 *   -200 .. -299 bus             -300 .. -399 consensus
 *   -400 .. -499 market data, DTW, risk
 *   -500 .. -599 trading (exchange, orders, limits)
 *   -600 .. -699 transport
 * New codes are appended inside their area's range; existing ones never move.
 */
#define HV_ERRNO_MAP(X)                                          \
    X(INVAL, -1, "invalid argument")                             \
    X(NOMEM, -2, "out of memory")                                \
    X(NOBUFS, -3, "buffer too small")                            \
    X(RANGE, -4, "value out of range")                           \
    X(AGAIN, -5, "resource temporarily unavailable")             \
    X(TIMEDOUT, -6, "timed out")                                 \
    X(NOTFOUND, -7, "not found")                                 \
    X(EXIST, -8, "already exists")                               \
    X(FULL, -9, "queue or table is full")                        \
    X(CLOSED, -10, "closed")                                     \
    X(IO, -11, "input/output error")                             \
    X(PARSE, -12, "malformed text input")                        \
    X(STATE, -13, "operation not valid in the current state")    \
    X(NOTSUP, -14, "not supported")                              \
    X(OVERFLOW, -15, "arithmetic or size overflow")              \
    X(CRYPTO, -16, "cryptographic library failure")              \
    X(ISDIR, -17, "is a directory")                              \
                                                                 \
    X(TRUNCATED, -100, "frame truncated")                        \
    X(BADMAGIC, -101, "bad frame magic")                         \
    X(BADVERSION, -102, "unsupported protocol version")          \
    X(BADTYPE, -103, "unknown message type")                     \
    X(BADLEN, -104, "inconsistent length field")                 \
    X(TOOBIG, -105, "frame exceeds size limit")                  \
    X(BADFLAGS, -106, "unknown or invalid flags")                \
    X(BADFIELD, -107, "invalid field value")                     \
    X(BADTOPIC, -108, "invalid topic")                           \
    X(BADINTERN, -109, "unknown interned topic id")              \
    X(COMPRESS, -110, "compression failed")                      \
    X(DECOMPRESS, -111, "decompression failed")                  \
    X(BADJSON, -112, "invalid JSON message")                     \
    X(TRAILING, -113, "trailing bytes after frame")              \
    X(NESTED, -114, "batch inside a batch")                      \
    X(BADUTF8, -115, "text field is not valid UTF-8")            \
    X(NONFINITE, -116, "non-finite floating-point value")        \
    X(STREAMGAP, -117, "stream chunk out of order")              \
                                                                 \
    X(BADSUBJECT, -200, "invalid subject or pattern")            \
    X(NOSUBSCRIBER, -201, "no matching subscriber")              \
    X(EXPIRED, -202, "message expired")                          \
    X(REJECTED, -203, "message rejected by backpressure policy") \
    X(NOAGENT, -204, "unknown agent")                            \
                                                                 \
    X(NOPROPOSAL, -300, "unknown proposal")                      \
    X(PROPOSALCLOSED, -301, "proposal already decided")          \
    X(NOTELIGIBLE, -302, "voter not eligible for this proposal") \
    X(DUPVOTE, -303, "duplicate vote")                           \
    X(BADSIG, -304, "bad signature")                             \
    X(EQUIVOCATION, -305, "equivocating voter")                  \
    X(BADMAC, -306, "bad message authentication code")           \
    X(TOOFEWVOTERS, -307, "too few voters for the rule")         \
    X(EXCLUDED, -308, "voter excluded from proposal")            \
    X(VOTEMISMATCH, -309, "vote round or payload hash differs")  \
                                                                 \
    X(TOOFEWOBS, -400, "too few observations")                   \
    X(NOTPOSDEF, -401, "matrix is not positive definite")        \
    X(BADCONF, -402, "confidence must lie in (0, 1)")            \
    X(BADROW, -403, "malformed data row")                        \
    X(CHECKSUM, -404, "checksum mismatch")                       \
                                                                 \
    X(BADTRANSITION, -500, "invalid order state transition")     \
    X(LIMIT, -501, "risk limit exceeded")                        \
    X(HALTED, -502, "trading halted by kill switch")             \
                                                                 \
    X(HANDSHAKE, -600, "handshake failed")                       \
    X(AUTH, -601, "authentication failed")                       \
    X(PEERCLOSED, -602, "peer closed the connection")            \
    X(TRANSPORT, -603, "transport error")

enum hv_errno {
#define HV_ERR_ENUM_(name, val, msg) HV_E##name = (val),
    HV_ERRNO_MAP(HV_ERR_ENUM_)
#undef HV_ERR_ENUM_
};

/* Returns a static, human-readable string for an HV_E* code (or "unknown error"). Never NULL. */
HV_EXTERN const char *hv_strerror(int err);

/* Returns the symbolic name ("HV_EINVAL") of an HV_E* code, or NULL if the code is unknown. */
HV_EXTERN const char *hv_err_name(int err);

/* Translates a positive errno value into an HV_E* code; the one place errno is mapped. */
HV_EXTERN int hv_err_from_errno(int errnum);

/* Returns the monotonic clock in nanoseconds. Only event-loop, CLI and benchmark code call it:
 * state machines take now_ns from their caller. Thread-safe. */
HV_EXTERN uint64_t hv_now_ns(void);

/* Library version as "MAJOR.MINOR.PATCH". */
HV_EXTERN const char *hv_version(void);

/* Which field of a config or options struct is invalid and why, from the *_check() functions
 * (hv_exchange_config_check, ...). Both strings are static: field is the struct member's name
 * ("fee_bps"), reason a phrase such as "must be a finite number in [0, 10000]". */
typedef struct hv_field_error {
    const char *field;
    const char *reason;
} hv_field_error;

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_COMMON_H */
