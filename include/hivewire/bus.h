/*
 * hivewire: the in-process message bus.
 *
 * Agents (usually one thread each) own an inbox and talk through the bus: publish to a subject
 * (every matching subscription gets the message), send to one agent id, broadcast to every
 * agent, request/reply with a correlation id and a timeout, and queue groups in which one
 * member gets each message. docs/BUS.md describes every policy in detail.
 *
 * Messages. A message is a fixed header (subject, sender, reply-to, correlation id, type,
 * priority, coalescing key, deadline, send time) and a payload that is either inline (up to
 * HV_MSG_INLINE_MAX bytes, copied into the message) or a reference-counted pooled buffer
 * (hv_buf). Messages come from a fixed pool made at hv_bus_new(); a message delivered to N
 * inboxes is one object with N references, so its payload is never copied per recipient.
 *
 * Inboxes. Each agent has five bounded lanes, one per priority, each a lock-free MPMC array
 * queue of message pointers. The agent's own thread consumes them with hv_agent_recv(). When a
 * lane is full the subscription's backpressure policy decides: drop the oldest, reject the new
 * message, or block the publisher up to a timeout. Every drop and rejection is counted.
 *
 * Time. Publish and receive take now_ns from the caller (the clock hv_now_ns() uses, or a
 * simulated one): deadlines, TTLs, request timeouts and latencies are computed from it. Only
 * the calls that block (hv_agent_wait, a publisher blocked by backpressure) read a clock, the
 * one given in hv_bus_opts (hv_now_ns by default), to bound their wait. The now_ns of one
 * agent's calls (as sender and as receiver) never runs backwards: an earlier one than the
 * agent's last is a programmer error and aborts (an assertion kept in release builds).
 *
 * Threads. hv_bus functions are thread-safe unless noted. An hv_agent belongs to one thread at
 * a time (its "owner"): only the owner may publish from it, receive, wait, request or reply.
 * Any thread may read its counters. Functions that say "any thread" may race with everything.
 */
#ifndef HIVEWIRE_BUS_H
#define HIVEWIRE_BUS_H

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Subjects: up to HV_SUBJECT_MAX bytes, up to HV_SUBJECT_TOKENS_MAX dot-separated tokens. */
#define HV_SUBJECT_MAX        95
#define HV_SUBJECT_TOKENS_MAX 16

/* Payload bytes carried inside the message itself; larger payloads use an hv_buf. */
#define HV_MSG_INLINE_MAX 80

typedef struct hv_bus hv_bus;
typedef struct hv_agent hv_agent;
typedef struct hv_buf hv_buf;

/* Priorities: lower number = served first; 0 in hv_send means HV_PRIO_NORMAL. */
enum hv_prio {
    HV_PRIO_DEFAULT = 0,
    HV_PRIO_CRITICAL = 1,
    HV_PRIO_HIGH = 2,
    HV_PRIO_NORMAL = 3,
    HV_PRIO_LOW = 4,
    HV_PRIO_BATCH = 5
};
#define HV_PRIO_COUNT 5 /* lanes; lane index = prio - 1 */

/* How an agent's thread waits for messages in hv_agent_wait(). */
enum hv_wait {
    HV_WAIT_BLOCK = 0, /* spin briefly, then sleep on the agent's eventfd (default) */
    HV_WAIT_SPIN = 1,  /* busy-spin until a message or the timeout: lowest latency, one core */
    HV_WAIT_YIELD = 2  /* spin briefly, then sched_yield() in a loop */
};

/* What a full inbox lane does with a new message (per subscription; per agent for direct
 * sends, broadcasts and replies). */
enum hv_backpressure {
    HV_BP_DROP_OLDEST = 0, /* evict the oldest message of that lane (counted, dead-lettered) */
    HV_BP_REJECT_NEW = 1,  /* refuse the new message: HV_EREJECTED / counted */
    HV_BP_BLOCK = 2        /* block the publisher until space or block_timeout_ns */
};

/* How a queue group picks the member that gets a message. */
enum hv_group_policy {
    HV_GROUP_ROUND_ROBIN = 0, /* members in turn (per group) */
    HV_GROUP_LEAST_LOADED = 1 /* member whose inbox lane holds the fewest messages */
};

/* Message flags (hv_bus_msg.flags). */
enum hv_msg_flag {
    HV_MSG_F_REQUEST = 1u << 0, /* a request: reply with hv_agent_reply() */
    HV_MSG_F_REPLY = 1u << 1,   /* a reply to this agent's request corr_id */
    HV_MSG_F_TIMEOUT = 1u << 2, /* synthetic: request corr_id timed out (no payload) */
    HV_MSG_F_BUF = 1u << 3,     /* payload lives in a pooled hv_buf */
    HV_MSG_F_DIRECT = 1u << 4,  /* sent to an agent id (no subject routing) */
    HV_MSG_F_BROADCAST = 1u << 5
};

/* Type number of the synthetic request-timeout message. */
#define HV_MSG_TYPE_TIMEOUT 0xFFFFFFFFu

/*
 * A received message. Receivers read the header fields and the payload and must not write
 * them; hv_bus_msg_release() gives the receiver's reference back. The layout is 256 bytes.
 */
typedef struct hv_bus_msg {
    uint64_t corr_id;      /* correlation id (requests/replies), else the publisher's value */
    uint64_t coalesce_key; /* 0 = none */
    uint64_t deadline_ns;  /* absolute expiry (now_ns clock), 0 = never */
    uint64_t sent_ns;      /* publisher's now_ns */
    uint32_t sender;       /* agent id of the publisher */
    uint32_t reply_to;     /* agent id that receives replies (requests), else 0 */
    uint32_t type;         /* application message type */
    uint32_t len;          /* payload bytes */
    uint8_t prio;          /* enum hv_prio, 1 .. 5 */
    uint8_t flags;         /* enum hv_msg_flag */
    uint8_t subject_len;   /* 0 for direct sends, broadcasts and replies */
    uint8_t attempts;      /* times this agent handed it back with hv_agent_retry(); 0 at first */
    uint32_t refs_;        /* private */
    const uint8_t *data;   /* payload: inline bytes or the hv_buf's bytes */
    hv_buf *buf_;          /* private */
    hv_bus *bus_;          /* private */
    /* private; right after the header so that a small message touches few cache lines */
    uint8_t inline_[HV_MSG_INLINE_MAX];
    char subject[HV_SUBJECT_MAX + 1]; /* NUL-terminated */
} hv_bus_msg;

/* What to send. Zero-initialise, then fill what applies. */
typedef struct hv_send {
    const char *subject;   /* publish/request: the subject; ignored by direct/broadcast/reply */
    uint32_t type;         /* application message type */
    uint8_t prio;          /* enum hv_prio; 0 = HV_PRIO_NORMAL */
    uint64_t corr_id;      /* carried as is (request/reply set their own) */
    uint64_t coalesce_key; /* non-zero: replaces an undelivered message with the same key, served
                            * at the more urgent of the two priorities (docs/BUS.md, 5) */
    uint64_t ttl_ns;       /* non-zero: expires at now_ns + ttl_ns into the dead-letter queue */
    const void *data;      /* payload copied once (inline or into one pooled buffer) ... */
    size_t len;
    hv_buf *buf; /* ... or a pooled buffer holding len bytes: zero copy (see ownership) */
} hv_send;

/* Per-call delivery outcome (optional out-parameter of the send functions). */
typedef struct hv_send_result {
    uint32_t matched;        /* inboxes the message was addressed to */
    uint32_t delivered;      /* inboxes that accepted it */
    uint32_t rejected;       /* refused (reject-new, or block timeout) */
    uint32_t dropped_oldest; /* older messages evicted to make room */
    uint32_t coalesced;      /* older messages replaced by this one (same coalescing key) */
    uint32_t filtered;       /* matched subscriptions whose filter refused it (not delivered) */
} hv_send_result;

/* Bus-wide options. hv_bus_opts_default() fills the defaults noted here. */
typedef struct hv_bus_opts {
    size_t size;           /* sizeof(hv_bus_opts) */
    uint32_t max_agents;   /* 1024: agent ids are 1 .. max_agents */
    uint32_t max_subs;     /* 16384 subscriptions */
    uint32_t msg_pool;     /* 4096 messages in flight (power of two) */
    uint32_t buf_pool;     /* 64 pooled buffers (power of two) */
    uint32_t buf_bytes;    /* 16384 bytes per pooled buffer */
    uint32_t dlq_capacity; /* 1024 dead letters kept; older ones are dropped and counted */
    uint64_t alert_p95_ns; /* 1 ms */
    uint64_t alert_p99_ns; /* 5 ms */
    /* Called by hv_bus_check_alerts() on the calling thread for each breached threshold. */
    void (*alert_cb)(void *ud, double quantile, uint64_t value_ns, uint64_t threshold_ns);
    void *alert_ud;
    /* Clock for the blocking calls only; default hv_now_ns. */
    uint64_t (*clock_ns)(void *ud);
    void *clock_ud;
} hv_bus_opts;

/* Per-agent options. hv_agent_opts_default() fills the defaults noted here. */
typedef struct hv_agent_opts {
    size_t size;                 /* sizeof(hv_agent_opts) */
    const char *name;            /* copied, up to 31 bytes kept; NULL = "agent-<id>" */
    uint32_t inbox_capacity;     /* 256 messages per priority lane (power of two, >= 2) */
    int wait;                    /* enum hv_wait, HV_WAIT_BLOCK */
    uint32_t spin_iters;         /* 2000 polls before yielding/sleeping */
    int backpressure;            /* for direct sends, broadcasts, replies: HV_BP_DROP_OLDEST */
    uint64_t block_timeout_ns;   /* HV_BP_BLOCK bound: 1 ms */
    uint32_t starvation_k;       /* 8: see hv_agent_recv() */
    uint32_t coalesce_slots;     /* 64 (power of two): distinct keys pending at once */
    uint32_t max_pending;        /* 64 requests in flight */
    uint32_t cache_entries;      /* 16 (power of two): subject match cache of this publisher */
    int latency_hist;            /* 0: off. 1: also keep this agent's own latency histogram
                                    (about 32 KiB, 1% precision), see hv_agent_latency_get() */
    uint32_t retry_capacity;     /* 64: messages waiting for redelivery, see hv_agent_retry() */
    uint32_t retry_max;          /* 5: hand-backs before a message is dead-lettered (0..255) */
    uint64_t retry_base_ns;      /* 1 ms: delay before the first redelivery; doubles each time */
    uint64_t retry_max_delay_ns; /* 1 s: the delay's ceiling */
} hv_agent_opts;

/*
 * A subscription's filter: called on the publisher's thread for each message whose subject
 * matches, after the declarative fields of hv_sub_opts accepted it. Returns non-zero to
 * deliver, 0 to skip (counted as `filtered`). Many publishers may call it at once; it must be
 * thread-safe, quick, must not block and must not call into the bus. m is read-only and valid
 * only during the call.
 */
typedef int (*hv_sub_filter_fn)(const struct hv_bus_msg *m, void *ctx);

/* Options of one subscription. hv_sub_opts_default() fills the defaults. */
typedef struct hv_sub_opts {
    size_t size;               /* sizeof(hv_sub_opts) */
    const char *group;         /* queue group name (a valid subject token), NULL = none */
    int group_policy;          /* enum hv_group_policy; fixed by the group's first member */
    int backpressure;          /* enum hv_backpressure, HV_BP_DROP_OLDEST */
    uint64_t block_timeout_ns; /* HV_BP_BLOCK bound: 1 ms */
    /* Filters, checked in this order; a refused message is not delivered to this subscription
     * and counts as `filtered` for its agent. Not allowed together with a queue group. */
    uint32_t type_lo, type_hi; /* deliver only application types lo..hi; both 0 = any */
    uint32_t sender;           /* deliver only messages from this agent id; 0 = any (ids of
                                  freed agents are reused by new ones) */
    hv_sub_filter_fn filter;   /* NULL = none */
    void *filter_ctx;          /* passed to filter; the caller's, valid until hv_agent_unsubscribe()
                                  or hv_agent_free() returns (no call runs after that) */
} hv_sub_opts;

/* Per-agent counters (relaxed atomics, read with hv_agent_stats()). */
typedef struct hv_agent_stats {
    uint64_t sent;                 /* messages this agent published/sent (accepted by >= 1 inbox) */
    uint64_t bytes_sent;           /* payload bytes of those */
    uint64_t received;             /* messages handed to this agent by hv_agent_recv() */
    uint64_t bytes_received;       /* payload bytes of those */
    uint64_t dropped_oldest;       /* evicted from this inbox by drop-oldest (dead-lettered) */
    uint64_t rejected;             /* refused by this inbox (reject-new or block timeout) */
    uint64_t block_timeouts;       /* of `rejected`: a blocked publisher gave up */
    uint64_t send_rejected;        /* this agent's messages refused by some recipient */
    uint64_t unrouted;             /* this agent's publishes that matched no subscription */
    uint64_t expired;              /* TTL passed before delivery (dead-lettered) */
    uint64_t coalesced;            /* replaced in this inbox by a newer message with the same key */
    uint64_t request_timeouts;     /* requests of this agent that timed out */
    uint64_t late_replies;         /* replies that arrived after their timeout (dead-lettered) */
    uint64_t errors;               /* other failures (message pool exhausted, ...) */
    uint64_t filtered;             /* matched this agent's subscriptions but refused by a filter */
    uint64_t retried;              /* messages this agent handed back for redelivery */
    uint64_t retries_exhausted;    /* of those: dead-lettered after retry_max hand-backs */
    uint64_t retry_overflow;       /* of those: dead-lettered because the retry queue was full */
    uint32_t depth[HV_PRIO_COUNT]; /* messages queued per lane now (index = prio - 1) */
} hv_agent_stats;

/* Bus-wide counters. */
typedef struct hv_bus_stats {
    uint32_t agents;       /* live agents */
    uint32_t subs;         /* live subscriptions */
    uint64_t generation;   /* subscription table generation (bumped by every change) */
    uint32_t msgs_in_use;  /* messages in flight (excludes agents' allocation caches) */
    uint32_t bufs_in_use;  /* buffers taken from the pool */
    uint64_t pool_empty;   /* allocations that failed because the pool was empty */
    uint64_t dead_letters; /* dead letters ever queued */
    uint64_t dlq_dropped;  /* dead letters discarded because the DLQ was full */
    uint32_t dlq_depth;    /* dead letters waiting to be read */
    uint64_t alerts;       /* thresholds breached (see hv_bus_check_alerts) */
} hv_bus_stats;

/* Latency summary from the bus histogram: publish (sent_ns) to hv_agent_recv (now_ns). */
typedef struct hv_latency {
    uint64_t count;
    uint64_t p50_ns, p95_ns, p99_ns, p999_ns, max_ns;
} hv_latency;

/* Why a message became a dead letter. */
enum hv_dead_reason {
    HV_DEAD_EXPIRED = 1,           /* its TTL passed before the recipient received it */
    HV_DEAD_DROPPED = 2,           /* evicted from a full lane by drop-oldest */
    HV_DEAD_LATE_REPLY = 3,        /* a reply with no pending request (timed out or unknown) */
    HV_DEAD_RETRIES_EXHAUSTED = 4, /* handed back with hv_agent_retry() retry_max times */
    HV_DEAD_RETRY_OVERFLOW = 5     /* handed back while the agent's retry queue was full */
};

typedef struct hv_dead_letter {
    hv_bus_msg *msg;    /* one reference, owned by the reader: hv_bus_msg_release() it */
    uint32_t recipient; /* agent id whose inbox held it */
    int reason;         /* enum hv_dead_reason */
    uint64_t at_ns;     /* now_ns of the call that dead-lettered it */
} hv_dead_letter;

/* ---------------------------------------------------------------------------------------- */
/* Subjects and patterns (pure functions, any thread)                                       */

/*
 * Validates a subject (is_pattern = 0) or a subscription pattern (is_pattern = 1) of len bytes.
 * Rules: 1 .. HV_SUBJECT_MAX bytes, 1 .. HV_SUBJECT_TOKENS_MAX tokens separated by '.', no
 * empty token, no byte <= 0x20, 0x7f or NUL; in a pattern a token may be exactly "*" (one
 * token) or ">" (one or more tokens, last token only); a subject contains no '*' or '>' at
 * all, and neither does a pattern except as whole tokens. Returns the token count, or
 * HV_EBADSUBJECT with *reason (if not NULL) set to a static English explanation.
 */
HV_EXTERN int hv_subject_check(const char *s, size_t len, int is_pattern, const char **reason);

/* True if subject matches pattern (both validated first; invalid input never matches). A
 * reference implementation of the NATS rules, used by tests and the fuzzer. */
HV_EXTERN int hv_subject_matches(const char *pattern, const char *subject);

/* ---------------------------------------------------------------------------------------- */
/* Bus                                                                                       */

HV_EXTERN void hv_bus_opts_default(hv_bus_opts *o);
HV_EXTERN void hv_agent_opts_default(hv_agent_opts *o);
HV_EXTERN void hv_sub_opts_default(hv_sub_opts *o);

/* Check an options struct: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field
 * and why (size wrong, a count 0, out of range or not a power of two where required, an enum
 * out of range, a group combined with a filter). Pure; any thread. */
HV_EXTERN int hv_bus_opts_check(const hv_bus_opts *o, hv_field_error *err);
HV_EXTERN int hv_agent_opts_check(const hv_agent_opts *o, hv_field_error *err);
HV_EXTERN int hv_sub_opts_check(const hv_sub_opts *o, hv_field_error *err);

/*
 * Creates a bus. opts NULL = defaults. Allocates every pool up front; nothing on the publish
 * and receive paths allocates afterwards (except a publisher's match cache growing on a miss).
 * Returns 0, HV_EINVAL (NULL out, or opts refused by hv_bus_opts_check(), which names the
 * field), HV_ENOMEM. On success the caller owns *out; on failure *out is NULL. Any thread.
 */
HV_EXTERN int hv_bus_new(const hv_bus_opts *opts, hv_bus **out);

/*
 * Frees the bus, every remaining agent and every queued message. No other thread may use the
 * bus or its agents any more; messages and buffers the caller still holds become invalid.
 */
HV_EXTERN void hv_bus_free(hv_bus *b);

/* Any thread. Fills *out. */
HV_EXTERN void hv_bus_stats_get(hv_bus *b, hv_bus_stats *out);

/* Any thread. Quantiles of the bus latency histogram (all receives since the last reset). */
HV_EXTERN void hv_bus_latency_get(hv_bus *b, hv_latency *out);

/* Any thread. Forgets recorded latencies (values recorded concurrently may survive). */
HV_EXTERN void hv_bus_latency_reset(hv_bus *b);

/*
 * Any thread. Compares the current p95 and p99 with the thresholds of hv_bus_opts; for each
 * one breached, increments the alert counter and calls alert_cb (if set) on this thread.
 * Returns the number of thresholds breached (0, 1 or 2). The caller picks the cadence.
 */
HV_EXTERN int hv_bus_check_alerts(hv_bus *b);

/*
 * Any thread. Takes the oldest dead letter. Returns 0 (the caller owns out->msg's reference)
 * or HV_EAGAIN when the queue is empty.
 */
HV_EXTERN int hv_bus_dlq_pop(hv_bus *b, hv_dead_letter *out);

/* ---------------------------------------------------------------------------------------- */
/* Pooled buffers (zero-copy payloads)                                                       */

/*
 * Any thread. Takes a buffer of hv_bus_opts.buf_bytes from the pool with one reference, owned
 * by the caller. Returns 0, HV_EAGAIN (pool empty; counted in pool_empty).
 */
HV_EXTERN int hv_bus_buf_alloc(hv_bus *b, hv_buf **out);

/* Any thread holding a reference. */
HV_EXTERN uint8_t *hv_buf_data(hv_buf *buf);
HV_EXTERN size_t hv_buf_capacity(const hv_buf *buf);
HV_EXTERN void hv_buf_retain(hv_buf *buf);
/* Drops one reference; the last one returns the buffer to the pool. */
HV_EXTERN void hv_buf_release(hv_buf *buf);

/* Any thread holding a reference: drops it; the last one returns the message to the pool. */
HV_EXTERN void hv_bus_msg_release(hv_bus_msg *m);

/* Any thread: hv_bus_msg_release() of n messages, recycling them with one atomic operation. NULL
 * entries are skipped. */
HV_EXTERN void hv_bus_msg_release_n(hv_bus_msg **msgs, size_t n);

/* Any thread holding a reference: takes another one (e.g. to keep a message after recv). */
HV_EXTERN void hv_bus_msg_retain(hv_bus_msg *m);

/* ---------------------------------------------------------------------------------------- */
/* Agents                                                                                    */

/*
 * Any thread. Registers an agent with its inbox; the calling thread becomes its owner (it may
 * hand the agent to another thread with proper synchronisation, e.g. pthread_create).
 * Returns 0, HV_EINVAL (NULL argument, or opts refused by hv_agent_opts_check(), which names
 * the field), HV_EFULL (max_agents reached), HV_ENOMEM, HV_EIO (no eventfd). On success the
 * caller owns *out; on failure *out is NULL.
 */
HV_EXTERN int hv_agent_new(hv_bus *b, const hv_agent_opts *opts, hv_agent **out);

/*
 * Removes the agent: its subscriptions, its queued messages (released), its pending requests.
 * Any thread, once the owner has stopped using it. Publishers racing with this call either
 * deliver before it or see the agent gone (HV_ENOAGENT / no match).
 */
HV_EXTERN void hv_agent_free(hv_agent *a);

/* Any thread. The agent's id (1 .. max_agents) and name. */
HV_EXTERN uint32_t hv_agent_id(const hv_agent *a);
HV_EXTERN const char *hv_agent_name(const hv_agent *a);

/* Any thread. Snapshot of the agent's counters. */
HV_EXTERN void hv_agent_stats_get(hv_agent *a, hv_agent_stats *out);

/*
 * Owner thread. Subscribes the agent to a pattern. opts NULL = defaults. *sub_id (if not
 * NULL) receives an id for hv_agent_unsubscribe(). Two subscriptions of one agent that both
 * match a subject deliver the message twice (NATS semantics).
 * Returns 0, HV_EBADSUBJECT (invalid pattern or group name; hv_subject_check() gives the
 * reason), HV_EINVAL (opts refused by hv_sub_opts_check(), which names the field), HV_EFULL
 * (max_subs or group table full), HV_ENOMEM.
 */
HV_EXTERN int hv_agent_subscribe(hv_agent *a, const char *pattern, const hv_sub_opts *opts,
                                 uint32_t *sub_id);

/* Owner thread. Returns 0 or HV_ENOTFOUND (not this agent's subscription). */
HV_EXTERN int hv_agent_unsubscribe(hv_agent *a, uint32_t sub_id);

/*
 * Owner thread (of `from`). Publishes to every subscription matching m->subject (one member
 * per queue group). Returns the number of inboxes that accepted the message (0 when nothing
 * matched: counted as unrouted), or HV_EBADSUBJECT, HV_EINVAL, HV_ETOOBIG (len > buf_bytes),
 * HV_EAGAIN (message or buffer pool empty). Ownership of m->buf: a return >= 0 consumes the
 * caller's reference; a negative return leaves it with the caller. r (may be NULL) receives
 * the per-inbox outcome.
 */
HV_EXTERN int hv_bus_publish(hv_agent *from, const hv_send *m, uint64_t now_ns, hv_send_result *r);

/*
 * Owner thread. Sends to one agent id, with that agent's backpressure policy. Returns 0, or
 * HV_ENOAGENT, HV_EREJECTED (the inbox refused it; counted), HV_ETIMEDOUT (blocked publisher
 * gave up; counted), HV_EINVAL, HV_ETOOBIG, HV_EAGAIN. m->buf as for hv_bus_publish, except
 * that the reference is consumed only on 0.
 */
HV_EXTERN int hv_bus_send(hv_agent *from, uint32_t to, const hv_send *m, uint64_t now_ns);

/*
 * Owner thread. Sends msgs[0 .. n) in order to one agent id, as n hv_bus_send() calls would,
 * but entering the bus, finding the agent and checking its wake-up once for the whole batch.
 * Stops at the first message that fails. Returns how many were accepted (their buffers'
 * references are consumed; those of the rest stay with the caller), or, if the first one
 * failed, its error (as hv_bus_send), or HV_ENOAGENT.
 */
HV_EXTERN int hv_bus_send_n(hv_agent *from, uint32_t to, const hv_send *msgs, size_t n,
                            uint64_t now_ns);

/* Owner thread. Sends to every agent except `from`. Returns the number that accepted it, or
 * HV_EINVAL, HV_ETOOBIG, HV_EAGAIN. m->buf as for hv_bus_publish. */
HV_EXTERN int hv_bus_broadcast(hv_agent *from, const hv_send *m, uint64_t now_ns,
                               hv_send_result *r);

/*
 * Owner thread. Publishes a request on m->subject with a fresh correlation id (*corr_id) and
 * reply_to = this agent; records it as pending until now_ns + timeout_ns. Exactly one of these
 * then reaches this agent's inbox: the first reply (HV_MSG_F_REPLY, same corr_id) or, when
 * hv_agent_recv() runs at or after the deadline, a synthetic HV_MSG_F_TIMEOUT message of type
 * HV_MSG_TYPE_TIMEOUT. Later replies are dead-lettered (HV_DEAD_LATE_REPLY).
 * Returns the number of inboxes that accepted the request (>= 1), or HV_ENOSUBSCRIBER (nothing
 * matched or every inbox refused; nothing stays pending), HV_EFULL (max_pending requests in
 * flight), HV_EINVAL (timeout_ns 0) and the errors of hv_bus_publish.
 */
HV_EXTERN int hv_agent_request(hv_agent *a, const hv_send *m, uint64_t timeout_ns, uint64_t now_ns,
                               uint64_t *corr_id);

/*
 * Owner thread (of `a`, the responder). Sends m as the reply to req (which must carry
 * HV_MSG_F_REQUEST), to req->reply_to with req->corr_id, using the requester's backpressure
 * policy. Returns as hv_bus_send(), plus HV_EINVAL when req is not a request.
 */
HV_EXTERN int hv_agent_reply(hv_agent *a, const hv_bus_msg *req, const hv_send *m, uint64_t now_ns);

/*
 * Owner thread. Takes up to max messages (at most INT_MAX) from the inbox without blocking and
 * returns how many (0 = empty): first request timeouts that are due, then redeliveries that are
 * due (hv_agent_retry(); counted in `received` again), then the lanes, highest priority first.
 * The caller owns one reference to each: release with hv_bus_msg_release(). Along the way it:
 *  - moves messages whose deadline_ns <= now_ns to the dead-letter queue (HV_DEAD_EXPIRED);
 *  - matches replies against pending requests (late ones are dead-lettered), and produces a
 *    timeout message for each pending request whose deadline <= now_ns;
 *  - records now_ns - sent_ns into the bus latency histogram.
 * Starvation guard: each time a message is served from a lane, every non-empty lower lane's
 * "passed over" count grows by one; a lane whose count reaches starvation_k is served next
 * (its count then resets). So a lower lane waits for at most starvation_k messages from above.
 */
HV_EXTERN int hv_agent_recv(hv_agent *a, hv_bus_msg **out, size_t max, uint64_t now_ns);

/*
 * Owner thread. Hands back a message this agent received (and could not process yet) for
 * redelivery to this agent after a delay: retry_base_ns << m->attempts, at most
 * retry_max_delay_ns. hv_agent_recv() returns it again, ahead of the lanes, once now_ns
 * reaches that time, with attempts one higher; hv_agent_next_deadline() includes the time.
 * A message already handed back retry_max times, or one that finds the retry queue full
 * (retry_capacity), goes to the dead-letter queue instead (HV_DEAD_RETRIES_EXHAUSTED,
 * HV_DEAD_RETRY_OVERFLOW; counted). A message shared with other recipients is copied first
 * (payload buffers are shared, not copied), so they never see this agent's attempts.
 * (If the message pool is empty so that a shared message cannot be copied, it is
 * dead-lettered as HV_DEAD_RETRY_OVERFLOW too.) Consumes the caller's reference except on
 * HV_EINVAL. Returns 0 (scheduled), 1 (dead-lettered) or HV_EINVAL (NULL argument).
 */
HV_EXTERN int hv_agent_retry(hv_agent *a, hv_bus_msg *m, uint64_t now_ns);

/*
 * Owner thread. Waits until the inbox holds a message (returns 0) or timeout_ns passes
 * (HV_ETIMEDOUT), using the agent's wait strategy. A timeout of 0 only checks. A pending
 * request deadline or redelivery time does not end the wait by itself: bound timeout_ns with
 * hv_agent_next_deadline().
 */
HV_EXTERN int hv_agent_wait(hv_agent *a, uint64_t timeout_ns);

/*
 * Event-loop integration. The eventfd becomes readable when a publisher wakes the agent. The
 * protocol is: drain with hv_agent_recv() until it returns 0; call hv_agent_arm(); if it
 * returns HV_EAGAIN a message slipped in (or is being written by a publisher that is
 * mid-push: hv_agent_recv() may then return 0 for a moment), drain again; if 0, wait for the
 * fd to be readable
 * (e.g. uv_poll), then call hv_agent_disarm() (which clears the fd) and drain. Never lost:
 * see docs/BUS.md. Owner thread. hv_agent_eventfd() returns the fd (owned by the agent).
 */
HV_EXTERN int hv_agent_eventfd(const hv_agent *a);
HV_EXTERN int hv_agent_arm(hv_agent *a);
HV_EXTERN void hv_agent_disarm(hv_agent *a);

/* Any thread. Quantiles of this agent's own receive latencies (sent_ns to hv_agent_recv's
 * now_ns). Returns 0, or HV_ENOTSUP when the agent was created without latency_hist. */
HV_EXTERN int hv_agent_latency_get(hv_agent *a, hv_latency *out);

/* Owner thread. Earliest pending request deadline or redelivery time (hv_agent_retry()), or
 * UINT64_MAX when there is neither. */
HV_EXTERN uint64_t hv_agent_next_deadline(const hv_agent *a);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_BUS_H */
