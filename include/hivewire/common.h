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
 * The error table. X(NAME, value, class, message). Numbers are grouped by area:
 *   -1 ..  -99  general          -100 .. -199 codec / wire format
 *   -200 .. -299 bus             -300 .. -399 consensus
 *   -400 .. -499 market data, DTW, risk
 *   -500 .. -599 trading (exchange, orders, limits)
 *   -600 .. -699 transport       -700 .. -799 replicated log
 * New codes are appended inside their area's range; existing ones never move.
 *
 * The class says what a caller (a transport, the replicated log, an agent runner) should do:
 *   RETRY  the condition is transient (a full queue or pool, a timeout, a lost connection, an
 *          I/O or memory failure): the same call, unchanged, may succeed later. Retry with
 *          backoff and a bound.
 *   FATAL  retrying the same call with the same input fails the same way (bad input or
 *          state, a protocol violation, a refused vote or order): change something, report,
 *          or give up. Unknown codes count as FATAL.
 */
#define HV_ERRNO_MAP(X)                                                 \
    X(INVAL, -1, FATAL, "invalid argument")                             \
    X(NOMEM, -2, RETRY, "out of memory")                                \
    X(NOBUFS, -3, FATAL, "buffer too small")                            \
    X(RANGE, -4, FATAL, "value out of range")                           \
    X(AGAIN, -5, RETRY, "resource temporarily unavailable")             \
    X(TIMEDOUT, -6, RETRY, "timed out")                                 \
    X(NOTFOUND, -7, FATAL, "not found")                                 \
    X(EXIST, -8, FATAL, "already exists")                               \
    X(FULL, -9, RETRY, "queue or table is full")                        \
    X(CLOSED, -10, FATAL, "closed")                                     \
    X(IO, -11, RETRY, "input/output error")                             \
    X(PARSE, -12, FATAL, "malformed text input")                        \
    X(STATE, -13, FATAL, "operation not valid in the current state")    \
    X(NOTSUP, -14, FATAL, "not supported")                              \
    X(OVERFLOW, -15, FATAL, "arithmetic or size overflow")              \
    X(CRYPTO, -16, FATAL, "cryptographic library failure")              \
    X(ISDIR, -17, FATAL, "is a directory")                              \
                                                                        \
    X(TRUNCATED, -100, FATAL, "frame truncated")                        \
    X(BADMAGIC, -101, FATAL, "bad frame magic")                         \
    X(BADVERSION, -102, FATAL, "unsupported protocol version")          \
    X(BADTYPE, -103, FATAL, "unknown message type")                     \
    X(BADLEN, -104, FATAL, "inconsistent length field")                 \
    X(TOOBIG, -105, FATAL, "frame exceeds size limit")                  \
    X(BADFLAGS, -106, FATAL, "unknown or invalid flags")                \
    X(BADFIELD, -107, FATAL, "invalid field value")                     \
    X(BADTOPIC, -108, FATAL, "invalid topic")                           \
    X(BADINTERN, -109, FATAL, "unknown interned topic id")              \
    X(COMPRESS, -110, FATAL, "compression failed")                      \
    X(DECOMPRESS, -111, FATAL, "decompression failed")                  \
    X(BADJSON, -112, FATAL, "invalid JSON message")                     \
    X(TRAILING, -113, FATAL, "trailing bytes after frame")              \
    X(NESTED, -114, FATAL, "batch inside a batch")                      \
    X(BADUTF8, -115, FATAL, "text field is not valid UTF-8")            \
    X(NONFINITE, -116, FATAL, "non-finite floating-point value")        \
    X(STREAMGAP, -117, FATAL, "stream chunk out of order")              \
                                                                        \
    X(BADSUBJECT, -200, FATAL, "invalid subject or pattern")            \
    X(NOSUBSCRIBER, -201, RETRY, "no matching subscriber")              \
    X(EXPIRED, -202, FATAL, "message expired")                          \
    X(REJECTED, -203, RETRY, "message rejected by backpressure policy") \
    X(NOAGENT, -204, FATAL, "unknown agent")                            \
                                                                        \
    X(NOPROPOSAL, -300, FATAL, "unknown proposal")                      \
    X(PROPOSALCLOSED, -301, FATAL, "proposal already decided")          \
    X(NOTELIGIBLE, -302, FATAL, "voter not eligible for this proposal") \
    X(DUPVOTE, -303, FATAL, "duplicate vote")                           \
    X(BADSIG, -304, FATAL, "bad signature")                             \
    X(EQUIVOCATION, -305, FATAL, "equivocating voter")                  \
    X(BADMAC, -306, FATAL, "bad message authentication code")           \
    X(TOOFEWVOTERS, -307, FATAL, "too few voters for the rule")         \
    X(EXCLUDED, -308, FATAL, "voter excluded from proposal")            \
    X(VOTEMISMATCH, -309, FATAL, "vote round or payload hash differs")  \
                                                                        \
    X(TOOFEWOBS, -400, FATAL, "too few observations")                   \
    X(NOTPOSDEF, -401, FATAL, "matrix is not positive definite")        \
    X(BADCONF, -402, FATAL, "confidence must lie in (0, 1)")            \
    X(BADROW, -403, FATAL, "malformed data row")                        \
    X(CHECKSUM, -404, FATAL, "checksum mismatch")                       \
                                                                        \
    X(BADTRANSITION, -500, FATAL, "invalid order state transition")     \
    X(LIMIT, -501, FATAL, "risk limit exceeded")                        \
    X(HALTED, -502, FATAL, "trading halted by kill switch")             \
                                                                        \
    X(HANDSHAKE, -600, FATAL, "handshake failed")                       \
    X(AUTH, -601, FATAL, "authentication failed")                       \
    X(PEERCLOSED, -602, RETRY, "peer closed the connection")            \
    X(TRANSPORT, -603, RETRY, "transport error")                        \
                                                                        \
    X(CHAIN, -700, FATAL, "log entry does not extend the hash chain")   \
    X(NOTLEADER, -701, RETRY, "not the leader of the replicated log")

enum hv_errno {
#define HV_ERR_ENUM_(name, val, cls, msg) HV_E##name = (val),
    HV_ERRNO_MAP(HV_ERR_ENUM_)
#undef HV_ERR_ENUM_
};

/* Returns a static, human-readable string for an HV_E* code (or "unknown error"). Never NULL. */
HV_EXTERN const char *hv_strerror(int err);

/* Returns the symbolic name ("HV_EINVAL") of an HV_E* code, or NULL if the code is unknown. */
HV_EXTERN const char *hv_err_name(int err);

/* Returns 1 if err is an HV_E* code of class RETRY (see the table above: the same call may
 * succeed later), 0 for a FATAL code, an unknown code, 0 or any non-negative value. */
HV_EXTERN int hv_err_retryable(int err);

/* Translates a positive errno value into an HV_E* code; the one place errno is mapped. */
HV_EXTERN int hv_err_from_errno(int errnum);

/* Returns the monotonic clock in nanoseconds. Only event-loop, CLI and benchmark code call it:
 * state machines take now_ns from their caller. Thread-safe. */
HV_EXTERN uint64_t hv_now_ns(void);

/* Library version as "MAJOR.MINOR.PATCH". */
HV_EXTERN const char *hv_version(void);

/* Which field of an options struct is invalid and why, from the *_check() functions
 * (hv_exchange_opts_check, ...). Both strings are static: field is the struct member's name
 * ("fee_bps"), reason a phrase such as "must be a finite number in [0, 10000]". */
typedef struct hv_field_error {
    const char *field;
    const char *reason;
} hv_field_error;

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_COMMON_H */
