/*
 * hivewire codec: the HVW1 binary wire format and its JSON form.
 *
 * Every message in hivewire (in process, and later over QUIC) travels as an HVW1 frame: a fixed
 * 48-byte little-endian header, an optional topic literal, then a typed payload. docs/PROTOCOL.md
 * is the normative description (byte offsets, limits, errors); this header is the C API.
 *
 * Layers, from cheapest to most convenient:
 *   - hv_frame_parse() / hv_msg_decode() / hv_frame_encode(): stateless, no allocation. The
 *     decoder returns views (pointer + length) into the caller's buffer; the encoder writes into
 *     a caller buffer and reports the size it needs when that is too small.
 *   - hv_intern: the per-connection topic interning table (both directions).
 *   - hv_codec: one connection's state: interning both ways, LZ4 above a threshold, the limits,
 *     and the buffers that compressed frames decompress into. Allocates only in hv_codec_new().
 *   - Batches: many frames behind one length prefix (a frame of type HV_MSG_BATCH).
 *   - JSON: {"type": ..., "payload": {...}} for every message type (jansson).
 *
 * Views: hv_str, hv_bytes and the numeric vectors point into the buffer they were decoded from
 * (or, for hv_codec_decode() of a compressed frame, into the codec's buffer). They stay valid as
 * long as that buffer does. Numeric vectors point at little-endian values that may be unaligned:
 * read them with hv_f32v_get() and friends. To encode, point them at native arrays (on a
 * little-endian host a float[] is already in wire order).
 *
 * Thread safety: the stateless functions may be called from any thread at once. An hv_codec or
 * hv_intern belongs to one connection and must be used by one thread at a time.
 */
#ifndef HIVEWIRE_CODEC_H
#define HIVEWIRE_CODEC_H

#include <string.h>

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Frame constants --------------------------------------------------------------------- */

#define HV_WIRE_MAGIC           0x31575648u /* bytes 'H' 'V' 'W' '1' read as a LE u32 */
#define HV_WIRE_VERSION_MAJOR   1
#define HV_WIRE_VERSION_MINOR   0
#define HV_WIRE_VERSION         ((HV_WIRE_VERSION_MAJOR << 8) | HV_WIRE_VERSION_MINOR)
#define HV_FRAME_HEADER_BYTES   48
#define HV_TOPIC_MAX_BYTES      255
#define HV_FRAME_MAX_DEFAULT    (1u << 20)  /* 1 MiB */
#define HV_FRAME_MAX_CEILING    (16u << 20) /* 16 MiB: no configuration can exceed it */
#define HV_FRAME_MIN_LIMIT      256         /* smallest frame_max_bytes a codec accepts */
#define HV_BATCH_FRAMES_MAX     65535
#define HV_INTERN_MAX_DEFAULT   256
#define HV_INTERN_BYTES_DEFAULT (16u << 10)
#define HV_INTERN_BYTES_CEILING (1u << 20) /* topic text per interning table: 1 MiB at most */
#define HV_INTERN_MAX_CEILING   65535
#define HV_STREAMS_MAX          32
#define HV_METRICS_MAX          32
#define HV_METRIC_NAME_MAX      64
#define HV_STR_MAX_BYTES        65535
#define HV_HASH_BYTES           32
#define HV_SIG_BYTES            64
#define HV_PRIORITY_MAX         10

/* Header flag bits (byte 7). Unknown bits are rejected with HV_EBADFLAGS. */
#define HV_FLAG_COMPRESSED    0x01u /* payload = u32 raw length + LZ4 block */
#define HV_FLAG_ACK_REQUESTED 0x02u /* the sender wants an HV_MSG_ACK for this sequence */
#define HV_FLAG_REPLY         0x04u /* correlation_id names the request this answers */
#define HV_FLAGS_KNOWN        0x07u

/* Encodings and compressions offered/chosen in the handshake (bit sets). */
#define HV_ENCODING_BINARY    0x01u
#define HV_ENCODING_JSON      0x02u
#define HV_ENCODINGS_KNOWN    0x03u
#define HV_COMPRESSION_LZ4    0x01u
#define HV_COMPRESSIONS_KNOWN 0x01u

/* ---- Message types ----------------------------------------------------------------------- */

/*
 * The one table of message types: X(NAME, wire value, json/union name), values stable wire
 * constants. HV_MSG_SCHEMA_TYPE_MAP lists the types whose payload is a list of fields (each has a
 * schema in src/codec/schema.h); HV_MSG_TYPE_MAP adds the batch, whose payload is frames.
 */
#define HV_MSG_SCHEMA_TYPE_MAP(X)                       \
    X(HANDSHAKE, 0x01, handshake)                       \
    X(HANDSHAKE_ACK, 0x02, handshake_ack)               \
    X(ACK, 0x03, ack)                                   \
    X(HEARTBEAT, 0x04, heartbeat)                       \
    X(ERROR, 0x05, error)                               \
    X(TASK_ASSIGN, 0x10, task_assign)                   \
    X(TASK_RESULT, 0x11, task_result)                   \
    X(PATTERN_RESULT, 0x20, pattern_result)             \
    X(STRATEGY_CORRELATION, 0x21, strategy_correlation) \
    X(REASONING_EXPERIENCE, 0x22, reasoning_experience) \
    X(NEURAL_GRADIENTS, 0x23, neural_gradients)         \
    X(PUBLISH, 0x30, publish)                           \
    X(SUBSCRIBE, 0x31, subscribe)                       \
    X(UNSUBSCRIBE, 0x32, unsubscribe)                   \
    X(PROPOSAL, 0x40, proposal)                         \
    X(VOTE, 0x41, vote)                                 \
    X(DECISION, 0x42, decision)                         \
    X(METRICS, 0x50, metrics)                           \
    X(STREAM_START, 0x60, stream_start)                 \
    X(STREAM_DATA, 0x61, stream_data)                   \
    X(STREAM_END, 0x62, stream_end)
#define HV_MSG_TYPE_MAP(X) HV_MSG_SCHEMA_TYPE_MAP(X) X(BATCH, 0x7f, batch)

typedef enum hv_msg_type {
#define HV_MSG_TYPE_ENUM_(name, val, lower) HV_MSG_##name = (val),
    HV_MSG_TYPE_MAP(HV_MSG_TYPE_ENUM_)
#undef HV_MSG_TYPE_ENUM_
} hv_msg_type;

/* ---- Enumerations carried in payloads (one byte each; values are wire constants) ---------- */

enum hv_wire_role {
    HV_WIRE_ROLE_WORKER,
    HV_WIRE_ROLE_PATTERN_MATCHER,
    HV_WIRE_ROLE_STRATEGY_CORRELATOR,
    HV_WIRE_ROLE_FEATURE_ENGINEER,
    HV_WIRE_ROLE_NEURAL_TRAINER,
    HV_WIRE_ROLE_REASONING_BANKER,
    HV_WIRE_ROLE_COORDINATOR,
    HV_WIRE_ROLE_MARKET_DATA,
    HV_WIRE_ROLE_RISK,
    HV_WIRE_ROLE_STRATEGY,
    HV_WIRE_ROLE_EXECUTION,
};
enum hv_wire_purpose {
    HV_WIRE_PURPOSE_CONTROL,
    HV_WIRE_PURPOSE_TASK_ASSIGNMENT,
    HV_WIRE_PURPOSE_PATTERN_MATCHING,
    HV_WIRE_PURPOSE_STRATEGY_CORRELATION,
    HV_WIRE_PURPOSE_FEATURE_ENGINEERING,
    HV_WIRE_PURPOSE_NEURAL_TRAINING,
    HV_WIRE_PURPOSE_REASONING_EXCHANGE,
    HV_WIRE_PURPOSE_MARKET_DATA,
    HV_WIRE_PURPOSE_CONSENSUS,
};
enum hv_wire_hs_status { HV_WIRE_HS_ACCEPTED, HV_WIRE_HS_REJECTED };
enum hv_wire_ack_status {
    HV_WIRE_ACK_RECEIVED,
    HV_WIRE_ACK_PROCESSED,
    HV_WIRE_ACK_FAILED,
    HV_WIRE_ACK_REJECTED,
};
enum hv_wire_task_kind {
    HV_WIRE_TASK_PATTERN_MATCH,
    HV_WIRE_TASK_STRATEGY_CORRELATION,
    HV_WIRE_TASK_FEATURE_ENGINEERING,
    HV_WIRE_TASK_NEURAL_TRAINING,
    HV_WIRE_TASK_GENERIC_COMPUTE,
    HV_WIRE_TASK_RISK,
};
enum hv_wire_corr_method { HV_WIRE_CORR_PEARSON, HV_WIRE_CORR_SPEARMAN, HV_WIRE_CORR_KENDALL };
enum hv_wire_priority {
    HV_WIRE_PRIO_CRITICAL,
    HV_WIRE_PRIO_HIGH,
    HV_WIRE_PRIO_NORMAL,
    HV_WIRE_PRIO_LOW,
    HV_WIRE_PRIO_BATCH,
};
enum hv_wire_content {
    HV_WIRE_CONTENT_OCTETS,
    HV_WIRE_CONTENT_JSON,
    HV_WIRE_CONTENT_TEXT,
    HV_WIRE_CONTENT_HVW1
};
enum hv_wire_stream_status { HV_WIRE_STREAM_COMPLETE, HV_WIRE_STREAM_ABORTED };
enum hv_wire_policy { HV_WIRE_POLICY_BLOCK, HV_WIRE_POLICY_DROP_OLDEST, HV_WIRE_POLICY_REJECT };
enum hv_wire_action {
    HV_WIRE_ACTION_ORDER_EXECUTION,
    HV_WIRE_ACTION_POSITION_CHANGE,
    HV_WIRE_ACTION_RISK_LIMIT_CHANGE,
    HV_WIRE_ACTION_RISK_CALCULATION,
    HV_WIRE_ACTION_PATTERN_MATCH,
    HV_WIRE_ACTION_STRATEGY_SIGNAL,
    HV_WIRE_ACTION_OTHER,
};
enum hv_wire_criticality {
    HV_WIRE_CRIT_LOW,
    HV_WIRE_CRIT_MEDIUM,
    HV_WIRE_CRIT_HIGH,
    HV_WIRE_CRIT_CRITICAL,
};
enum hv_wire_rule {
    HV_WIRE_RULE_MAJORITY,
    HV_WIRE_RULE_SIMPLE_MAJORITY,
    HV_WIRE_RULE_THRESHOLD,
    HV_WIRE_RULE_WEIGHTED,
    HV_WIRE_RULE_UNANIMOUS,
    HV_WIRE_RULE_BFT,
};
enum hv_wire_choice { HV_WIRE_CHOICE_APPROVE, HV_WIRE_CHOICE_REJECT, HV_WIRE_CHOICE_ABSTAIN };
enum hv_wire_auth { HV_WIRE_AUTH_NONE, HV_WIRE_AUTH_ED25519, HV_WIRE_AUTH_BLAKE2B_MAC };
enum hv_wire_outcome {
    HV_WIRE_OUTCOME_ACCEPTED,
    HV_WIRE_OUTCOME_REJECTED,
    HV_WIRE_OUTCOME_NO_QUORUM,
    HV_WIRE_OUTCOME_EXPIRED,
};
enum hv_wire_metric_kind {
    HV_WIRE_METRIC_COUNTER,
    HV_WIRE_METRIC_GAUGE,
    HV_WIRE_METRIC_LATENCY_NS
};

/* ---- Views ------------------------------------------------------------------------------- */

/* UTF-8 text, not NUL-terminated. */
typedef struct hv_str {
    const char *ptr;
    uint32_t len;
} hv_str;

typedef struct hv_bytes {
    const uint8_t *ptr;
    uint32_t len;
} hv_bytes;

/* n little-endian values at ptr, possibly unaligned. */
typedef struct hv_f32v {
    const void *ptr;
    uint32_t n;
} hv_f32v;
typedef struct hv_u32v {
    const void *ptr;
    uint32_t n;
} hv_u32v;
typedef struct hv_u64v {
    const void *ptr;
    uint32_t n;
} hv_u64v;

static inline hv_str hv_str_from(const char *s)
{
    hv_str v = { s, s ? (uint32_t)strlen(s) : 0 };
    return v;
}

static inline float hv_f32v_get(hv_f32v v, uint32_t i)
{
    uint32_t u;
    const uint8_t *p = (const uint8_t *)v.ptr + (size_t)i * 4;
    u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t hv_u32v_get(hv_u32v v, uint32_t i)
{
    const uint8_t *p = (const uint8_t *)v.ptr + (size_t)i * 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t hv_u64v_get(hv_u64v v, uint32_t i)
{
    const uint8_t *p = (const uint8_t *)v.ptr + (size_t)i * 8;
    uint64_t x = 0;
    for (int k = 7; k >= 0; k--)
        x = x << 8 | p[k];
    return x;
}

/* ---- Messages (field order = wire order of the fixed part; see docs/PROTOCOL.md) ---------- */

typedef struct hv_msg_handshake {
    uint64_t agent_id;
    uint64_t capabilities; /* application-defined capability bits */
    uint32_t frame_max_bytes;
    uint32_t intern_bytes_max;
    uint16_t version_min; /* (major << 8) | minor offered, inclusive range */
    uint16_t version_max;
    uint16_t intern_max;       /* interning table entries offered (0 = no interning) */
    uint16_t batch_frames_max; /* largest batch the agent accepts */
    uint8_t role;              /* enum hv_wire_role */
    uint8_t encodings;         /* HV_ENCODING_* bits offered */
    uint8_t compression;       /* HV_COMPRESSION_* bits offered */
    hv_str name;               /* agent/software name */
    hv_str metadata;
    hv_bytes auth; /* credentials or a session token to resume */
} hv_msg_handshake;

typedef struct hv_wire_stream {
    uint16_t stream_id;
    uint8_t purpose;  /* enum hv_wire_purpose */
    uint8_t priority; /* 0..10 */
} hv_wire_stream;

typedef struct hv_msg_handshake_ack {
    uint64_t coordinator_id;
    uint64_t session_id;
    uint32_t frame_max_bytes;
    uint32_t intern_bytes_max;
    uint32_t compress_above_bytes; /* 0 = never compress */
    uint32_t heartbeat_interval_ms;
    uint32_t task_timeout_ms;
    uint32_t max_buffer_bytes;
    int32_t error_code; /* HV_E* when rejected, else 0 */
    uint16_t version;   /* chosen (major << 8) | minor */
    uint16_t intern_max;
    uint16_t batch_frames_max;
    uint8_t status;      /* enum hv_wire_hs_status */
    uint8_t encoding;    /* exactly one HV_ENCODING_* bit (or 0 when rejected) */
    uint8_t compression; /* chosen HV_COMPRESSION_* bits (0 or LZ4) */
    uint8_t stream_count;
    hv_wire_stream streams[HV_STREAMS_MAX];
    hv_bytes session_token;
    hv_str reason;
} hv_msg_handshake_ack;

typedef struct hv_msg_ack {
    uint64_t acked_sender; /* sender_id of the acknowledged frame */
    uint64_t acked_seq;    /* its sequence number: the message id */
    int32_t error_code;
    uint8_t status; /* enum hv_wire_ack_status */
    hv_str reason;
} hv_msg_ack;

typedef struct hv_msg_heartbeat {
    uint64_t memory_bytes;
    float load; /* 0..1 */
    uint32_t active_tasks;
    uint32_t queue_depth;
} hv_msg_heartbeat;

typedef struct hv_msg_error {
    uint64_t ref_seq; /* sequence of the offending frame, 0 if none */
    int32_t code;
    hv_str message;
    hv_str context;
} hv_msg_error;

typedef struct hv_msg_task_assign {
    uint64_t task_id;
    uint64_t agent_id; /* assignee, 0 = any */
    uint32_t timeout_ms;
    uint8_t kind;     /* enum hv_wire_task_kind */
    uint8_t priority; /* 0..10 */
    hv_bytes input;
} hv_msg_task_assign;

typedef struct hv_msg_task_result {
    uint64_t task_id;
    uint64_t duration_ns;
    int32_t error_code;
    uint8_t kind;    /* enum hv_wire_task_kind */
    uint8_t success; /* 0 or 1 */
    hv_bytes output;
    hv_str error;
} hv_msg_task_result;

typedef struct hv_msg_pattern_result {
    uint64_t pattern_id;
    uint64_t compute_ns;
    float similarity;
    float confidence; /* 0..1 */
    float expected_outcome;
    float actual_outcome; /* meaningful when has_actual */
    uint8_t has_actual;   /* 0 or 1 */
    hv_f32v vector;
    hv_str context; /* market context */
} hv_msg_pattern_result;

typedef struct hv_msg_strategy_correlation {
    uint64_t window_ns;
    uint8_t method; /* enum hv_wire_corr_method */
    hv_u64v strategy_ids;
    hv_f32v matrix; /* n x n, row-major, n = strategy_ids.n */
} hv_msg_strategy_correlation;

typedef struct hv_msg_reasoning_experience {
    uint64_t experience_id;
    uint64_t latency_ns;
    double outcome_value;
    float outcome_confidence; /* 0..1 */
    hv_str action;
    hv_str context;
} hv_msg_reasoning_experience;

typedef struct hv_msg_neural_gradients {
    uint64_t model_id;
    uint64_t step;
    uint32_t layer;
    float loss;
    float learning_rate;
    hv_f32v gradients;
} hv_msg_neural_gradients;

typedef struct hv_msg_publish {
    uint64_t coalesce_key; /* 0 = none */
    uint32_t ttl_ms;       /* 0 = no expiry */
    uint8_t priority;      /* enum hv_wire_priority */
    uint8_t content_type;  /* enum hv_wire_content */
    hv_bytes data;
} hv_msg_publish;

typedef struct hv_msg_subscribe {
    uint64_t subscription_id;
    uint32_t inbox_capacity;
    uint8_t policy;     /* enum hv_wire_policy */
    hv_str pattern;     /* subject pattern, may use * and > */
    hv_str queue_group; /* empty = none */
} hv_msg_subscribe;

typedef struct hv_msg_unsubscribe {
    uint64_t subscription_id;
} hv_msg_unsubscribe;

typedef struct hv_msg_proposal {
    uint64_t proposal_id;
    uint64_t proposer;
    uint64_t deadline_ns;
    uint32_t round;
    uint32_t quorum;
    uint16_t threshold_num; /* THRESHOLD rule: num/den, den 0 = unused (num must be 0) */
    uint16_t threshold_den;
    uint8_t action;      /* enum hv_wire_action */
    uint8_t criticality; /* enum hv_wire_criticality */
    uint8_t rule;        /* enum hv_wire_rule */
    uint8_t payload_hash[HV_HASH_BYTES];
    uint8_t signature[HV_SIG_BYTES];
    hv_u64v voters;  /* eligible voter ids */
    hv_u32v weights; /* one weight per voter */
    hv_bytes payload;
} hv_msg_proposal;

typedef struct hv_msg_vote {
    uint64_t proposal_id;
    uint64_t voter;
    uint32_t round;
    uint32_t weight;
    uint8_t choice; /* enum hv_wire_choice */
    uint8_t auth;   /* enum hv_wire_auth: what `signature` holds */
    uint8_t payload_hash[HV_HASH_BYTES];
    uint8_t signature[HV_SIG_BYTES];
} hv_msg_vote;

typedef struct hv_msg_decision {
    uint64_t proposal_id;
    uint64_t decided_ns;
    uint64_t approve_weight;
    uint64_t reject_weight;
    uint64_t abstain_weight;
    uint32_t round;
    uint32_t approvals;
    uint32_t rejections;
    uint32_t abstentions;
    uint32_t votes_needed;
    uint8_t outcome; /* enum hv_wire_outcome */
    uint8_t rule;    /* enum hv_wire_rule */
    uint8_t payload_hash[HV_HASH_BYTES];
    uint8_t signature[HV_SIG_BYTES];
    hv_u64v excluded; /* voters excluded (equivocation) */
} hv_msg_decision;

typedef struct hv_wire_metric {
    hv_str name; /* 1..64 bytes */
    double value;
    uint8_t kind; /* enum hv_wire_metric_kind */
} hv_wire_metric;

typedef struct hv_msg_metrics {
    uint64_t interval_ns;
    uint8_t count;
    hv_wire_metric entries[HV_METRICS_MAX];
} hv_msg_metrics;

/* A stream: content too large for one frame (a model, a pattern library, a day of ticks) sent
 * as START, DATA chunks in order, END; hv_stream_rx reassembles and verifies it. */
typedef struct hv_msg_stream_start {
    uint64_t stream_id;   /* non-zero; unique per sender while the stream is open */
    uint64_t total_bytes; /* announced size, 0 = not known in advance */
    uint32_t chunk_bytes; /* largest DATA chunk the sender will send, >= 1 */
    uint8_t content_type; /* enum hv_wire_content */
    hv_str name;          /* what the content is, e.g. "patterns/spx.5m" (may be empty) */
} hv_msg_stream_start;

typedef struct hv_msg_stream_data {
    uint64_t stream_id;
    uint64_t offset; /* bytes of the stream before this chunk */
    hv_bytes chunk;  /* 1 .. chunk_bytes bytes */
} hv_msg_stream_data;

typedef struct hv_msg_stream_end {
    uint64_t stream_id;
    uint64_t total_bytes;                /* bytes sent */
    uint32_t chunks;                     /* DATA messages sent */
    int32_t error_code;                  /* why an ABORTED stream stopped (HV_E* or the app's) */
    uint8_t status;                      /* enum hv_wire_stream_status */
    uint8_t content_hash[HV_HASH_BYTES]; /* BLAKE2b-256 of the content (hv_stream_hash) */
} hv_msg_stream_end;

/* A batch: `count` complete frames back to back in `frames`. Iterate with hv_batch_iter. */
typedef struct hv_msg_batch {
    uint32_t count;
    hv_bytes frames;
} hv_msg_batch;

typedef struct hv_msg {
    uint8_t type; /* hv_msg_type: selects the union member */
    union {
#define HV_MSG_UNION_(name, val, lower) hv_msg_##lower lower;
        HV_MSG_TYPE_MAP(HV_MSG_UNION_)
#undef HV_MSG_UNION_
    };
} hv_msg;

/* ---- Frames ------------------------------------------------------------------------------ */

/*
 * The frame header as a struct. hv_frame_parse() fills every field (topic and payload are views
 * into the buffer). hv_frame_encode() reads seq, correlation_id, timestamp_ns, sender_id, flags
 * (ACK_REQUESTED and REPLY only), topic and topic_id; it ignores the rest.
 */
typedef struct hv_frame {
    uint8_t version_major;
    uint8_t version_minor;
    uint8_t type;
    uint8_t flags;
    uint8_t header_len;
    uint16_t topic_id; /* 0 = not interned */
    uint32_t frame_len;
    uint64_t seq;
    uint64_t correlation_id;
    uint64_t timestamp_ns;
    uint64_t sender_id;
    hv_str topic;     /* literal topic (0..255 bytes), or the interned one after resolution */
    hv_bytes payload; /* payload as on the wire (compressed when flags & HV_FLAG_COMPRESSED) */
} hv_frame;

/* Limits a decoder enforces. Zero fields take the defaults. */
typedef struct hv_codec_limits {
    uint32_t frame_max_bytes; /* default HV_FRAME_MAX_DEFAULT, ceiling HV_FRAME_MAX_CEILING */
    uint32_t decompressed_max_bytes; /* bomb limit, default frame_max_bytes, same ceiling */
} hv_codec_limits;

/* Name of a message type ("task_result"), or NULL if unknown. */
HV_EXTERN const char *hv_msg_type_name(int type);

/* Type for a name, or HV_EBADTYPE. */
HV_EXTERN int hv_msg_type_from_name(const char *name, size_t len);

/*
 * Parses and checks one frame's header at buf[0..len). Returns the frame's total length (> 0)
 * and fills *f, or the first of these that fails, in this order (docs/PROTOCOL.md section 13):
 *   HV_ETRUNCATED  fewer than 48 bytes
 *   HV_EBADMAGIC, HV_EBADVERSION (major != 1), HV_EBADTYPE, HV_EBADFLAGS,
 *   HV_EBADLEN     header_len < 48, or != 48 for a minor version this decoder knows
 *   HV_ETOOBIG     frame longer than lim->frame_max_bytes (from the header alone)
 *   HV_ETRUNCATED  fewer bytes than the frame (f->frame_len is then its length: read that many
 *                  bytes and call again)
 *   HV_EBADTOPIC   literal topic with bytes outside 0x21..0x7e or '*' '>'; a publish without a
 *                  topic; a batch with one
 * Trailing bytes after the frame are not examined (a stream holds many frames). lim may be NULL.
 * Allocates nothing; any thread.
 */
HV_EXTERN int hv_frame_parse(const uint8_t *buf, size_t len, const hv_codec_limits *lim,
                             hv_frame *f);

/*
 * Decodes f's uncompressed payload into *m (views into the payload). Returns 0, or
 * HV_EBADFLAGS (payload still compressed), HV_EBADLEN (payload shorter than its fixed part, a
 * count or length reaching past the payload, a batch count inconsistent with its frames),
 * HV_EBADFIELD (enum, bool, priority, unit range or cross-field rule), HV_ENONFINITE,
 * HV_EBADUTF8, HV_EBADTOPIC (subscribe pattern), HV_ETRAILING (bytes after the last field in a
 * frame of a minor version this decoder knows; ignored for newer minors), HV_EBADTYPE.
 * Allocates nothing; any thread.
 */
HV_EXTERN int hv_msg_decode(const hv_frame *f, hv_msg *m);

/*
 * Stateless one-shot: parse + decompress (into scratch, when the frame is compressed) +
 * decode. Returns the frame length or an error of hv_frame_parse(), hv_frame_decompress() or
 * hv_msg_decode(). Interned topic references are left unresolved (f->topic empty, topic_id set).
 */
HV_EXTERN int hv_decode(const uint8_t *buf, size_t len, const hv_codec_limits *lim,
                        uint8_t *scratch, size_t scratch_cap, hv_frame *f, hv_msg *m);

/*
 * Decompresses f's payload into dst (cap bytes) and points f->payload at it, clearing
 * HV_FLAG_COMPRESSED. Returns the raw length, or HV_EDECOMPRESS (corrupt block, or its length
 * differs from the declared one), HV_ETOOBIG (declared length above the bomb limit),
 * HV_ENOBUFS (declared length above cap), HV_EBADLEN (payload shorter than 5 bytes, or declared
 * length 0). Does nothing and returns the payload length for an uncompressed frame.
 */
HV_EXTERN int hv_frame_decompress(hv_frame *f, const hv_codec_limits *lim, uint8_t *dst,
                                  size_t cap);

/* Payload bytes m encodes to (uncompressed), or a validation error as for hv_frame_encode(). */
HV_EXTERN int hv_msg_encoded_size(const hv_msg *m);

/*
 * Encodes one uncompressed frame (header from f, payload from m) into buf[0..cap). The topic is
 * written as given: f->topic literal (if len > 0) and f->topic_id verbatim (use hv_codec for
 * interning). Returns the frame length, or:
 *   HV_ENOBUFS  cap too small; *needed (if not NULL) = the frame length
 *   HV_EINVAL   f->flags has bits other than ACK_REQUESTED | REPLY, or a NULL view with len > 0
 *   HV_EBADTYPE, HV_EBADFIELD, HV_ENONFINITE, HV_EBADUTF8, HV_EBADTOPIC, HV_EBADLEN (a string,
 *               vector or list over its limit), HV_ETOOBIG (frame over HV_FRAME_MAX_CEILING)
 * Never writes past cap; allocates nothing; any thread.
 */
HV_EXTERN int hv_frame_encode(uint8_t *buf, size_t cap, const hv_frame *f, const hv_msg *m,
                              size_t *needed);

/* Structural equality of two messages (views compared by content). 1 equal, 0 not. */
HV_EXTERN int hv_msg_equal(const hv_msg *a, const hv_msg *b);

/* ---- Topic interning --------------------------------------------------------------------- */

/*
 * One direction of one connection's interning table. Ids are assigned 1, 2, 3... in order of
 * first use by the sender; the receiver accepts a definition only for the next id, so both
 * sides agree without coordination. Entries are never evicted: when the table is full (entries
 * or bytes), new topics travel as literals with topic_id 0. Memory is allocated in
 * hv_intern_init() and bounded by max_entries and max_bytes.
 */
typedef struct hv_intern {
    uint32_t max_entries;
    uint32_t max_bytes;
    uint32_t count;      /* entries defined, ids 1..count */
    uint32_t bytes_used; /* arena bytes used */
    uint32_t hash_mask;
    uint64_t full_misses; /* topics sent as literals because the table was full */
    uint32_t *offsets;    /* [max_entries + 1] arena offsets of each id */
    uint16_t *slots;      /* open-addressing hash: ids, 0 = empty */
    char *arena;
} hv_intern;

/* max_entries 0..65535 (0 disables interning), max_bytes <= HV_INTERN_BYTES_CEILING (1 MiB).
 * 0, HV_EINVAL, HV_ENOMEM. */
HV_EXTERN int hv_intern_init(hv_intern *t, size_t max_entries, size_t max_bytes);
HV_EXTERN void hv_intern_fini(hv_intern *t);

/* Forgets every entry (a new connection), keeping the memory and limits. */
HV_EXTERN void hv_intern_reset(hv_intern *t);

/* Sender: the id for topic. *id = existing id (define = 0), or a newly assigned one
 * (define = 1: send the literal too), or 0 when the table is full (send the literal only). */
HV_EXTERN void hv_intern_tx(hv_intern *t, hv_str topic, uint16_t *id, int *define);

/* Receiver: applies f's topic fields. A definition records the literal; a reference fills
 * f->topic from the table. Returns 0, or HV_EBADINTERN (unknown id, definition out of order,
 * duplicate, or over the table's limits). */
HV_EXTERN int hv_intern_rx(hv_intern *t, hv_frame *f);

/* The topic for id (empty view if unknown). */
HV_EXTERN hv_str hv_intern_lookup(const hv_intern *t, uint16_t id);

/* ---- Batches ----------------------------------------------------------------------------- */

/* Builds a batch frame in a caller buffer. Frames are appended in place (no copies). */
typedef struct hv_batch_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint32_t count;
    uint32_t frame_max_bytes;
    hv_frame header;
} hv_batch_writer;

/* Starts a batch whose own header takes seq/correlation/timestamp/sender from hdr (may be NULL;
 * the batch header carries no topic). Returns 0 or HV_ENOBUFS (*needed = 52). */
HV_EXTERN int hv_batch_begin(hv_batch_writer *w, uint8_t *buf, size_t cap, const hv_frame *hdr,
                             size_t *needed);

/* Appends one frame (as hv_frame_encode()). HV_ENOBUFS sets *needed to the bytes the batch
 * would need in total; HV_EFULL after HV_BATCH_FRAMES_MAX frames; HV_ENESTED for a batch. */
HV_EXTERN int hv_batch_add(hv_batch_writer *w, const hv_frame *f, const hv_msg *m, size_t *needed);

/* Writes the batch header; returns the batch frame's total length. HV_EINVAL if empty. */
HV_EXTERN int hv_batch_finish(hv_batch_writer *w);

typedef struct hv_batch_iter {
    const uint8_t *p;
    size_t left;
    uint32_t remaining;
    hv_codec_limits lim;
} hv_batch_iter;

/* Starts iterating a decoded batch message. lim may be NULL. */
HV_EXTERN void hv_batch_iter_init(hv_batch_iter *it, const hv_msg_batch *b,
                                  const hv_codec_limits *lim);

/*
 * Next inner frame: *frame and *len point at it (feed them to hv_frame_parse or hv_codec_decode).
 * Returns 1, 0 at the end, or HV_ETRUNCATED / HV_EBADLEN (frames and count disagree),
 * HV_ENESTED (a batch inside a batch), or any hv_frame_parse() error. Allocates nothing.
 */
HV_EXTERN int hv_batch_next(hv_batch_iter *it, const uint8_t **frame, size_t *len);

/* ---- Per-connection codec ---------------------------------------------------------------- */

typedef struct hv_codec_opts {
    size_t size;                   /* sizeof(hv_codec_opts), for growth */
    uint32_t frame_max_bytes;      /* 0 = HV_FRAME_MAX_DEFAULT */
    uint32_t compress_above_bytes; /* compress payloads larger than this; 0 = never */
    uint32_t intern_max;           /* entries per direction, 0 = no interning */
    uint32_t intern_bytes_max; /* 0 = HV_INTERN_BYTES_DEFAULT, at most HV_INTERN_BYTES_CEILING */
} hv_codec_opts;

typedef struct hv_codec hv_codec;

typedef struct hv_codec_stats {
    uint64_t frames_encoded, frames_decoded;
    uint64_t bytes_encoded, bytes_decoded;
    uint64_t compressed, compress_skipped; /* skipped: LZ4 did not make it smaller */
    uint64_t intern_defined_tx, intern_defined_rx, intern_full;
    uint64_t decode_errors;
} hv_codec_stats;

/* Defaults: 1 MiB frames, no compression, no interning (16 KiB of topic text when on). */
HV_EXTERN void hv_codec_opts_default(hv_codec_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size
 * wrong, a limit outside its ceiling). Pure; any thread. */
HV_EXTERN int hv_codec_opts_check(const hv_codec_opts *o, hv_field_error *err);

/* Creates a codec: allocates its interning tables, three frame_max_bytes buffers (encoder
 * scratch, decompressed frames, decompressed batches; untouched pages cost no memory) and an LZ4
 * state, and nothing after this call. opts may be NULL (the defaults).
 * Returns 0, HV_EINVAL (NULL out, or opts refused by hv_codec_opts_check(), which names the
 * field), HV_ENOMEM. On success the caller owns *out; on failure *out is NULL. */
HV_EXTERN int hv_codec_new(const hv_codec_opts *opts, hv_codec **out);
HV_EXTERN void hv_codec_free(hv_codec *c);

/* Returns the codec to its state after hv_codec_new() (empty interning tables, zero stats), for
 * a new connection or a reconnect. Allocates nothing. */
HV_EXTERN void hv_codec_reset(hv_codec *c);

/*
 * Encodes like hv_frame_encode(), plus: interns f->topic (when interning is on), and
 * LZ4-compresses the payload when it is larger than compress_above_bytes and compression makes
 * the frame strictly smaller (else it goes raw: stats.compress_skipped). With f->topic_id 0 the
 * codec chooses: a definition, a reference or a plain literal. A nonzero f->topic_id (to
 * reproduce interned frames) is taken as given only if a receiver would accept it: a
 * definition (with f->topic) of the next id of a topic not yet in the table, where there is
 * room, or a reference (without f->topic) to a defined id; else HV_EBADINTERN (see
 * hv_codec_error_detail()). On any error nothing (including the interning table) changes.
 * Returns the frame length or the errors of hv_frame_encode(), HV_EBADINTERN, HV_ETOOBIG (the
 * uncompressed frame is over frame_max_bytes).
 */
HV_EXTERN int hv_codec_encode(hv_codec *c, uint8_t *buf, size_t cap, const hv_frame *f,
                              const hv_msg *m, size_t *needed);

/* Appends one frame to a batch like hv_batch_add(), interning its topic through the codec (inner
 * frames are never compressed on their own: compress the whole batch instead). */
HV_EXTERN int hv_codec_batch_add(hv_codec *c, hv_batch_writer *w, const hv_frame *f,
                                 const hv_msg *m, size_t *needed);

/* Compresses a finished batch (from hv_batch_finish()) in place when its payload is over the
 * threshold and compression makes the frame strictly smaller; otherwise the frame is left byte
 * for byte as it was. Returns the frame's length then, or HV_EINVAL (not a whole frame) or an
 * hv_frame_parse() error. */
HV_EXTERN int hv_codec_compress_frame(hv_codec *c, uint8_t *frame, size_t len);

/*
 * Decodes one frame: parse, resolve/record its interned topic, decompress (into the codec's
 * buffer: views stay valid until the next hv_codec_decode() of a frame of the same kind —
 * batch or not — on this codec), decode. Returns the frame length or any error of
 * hv_frame_parse(), hv_intern_rx(), hv_frame_decompress(), hv_msg_decode().
 */
HV_EXTERN int hv_codec_decode(hv_codec *c, const uint8_t *buf, size_t len, hv_frame *f, hv_msg *m);

/* After a call on c that failed with HV_EBADINTERN: which rule the topic id broke, naming the
 * ids and the topic ("topic id 3 is defined out of order: the next id is 2"). The text lives in
 * c until the next such failure. */
HV_EXTERN const char *hv_codec_error_detail(const hv_codec *c);

HV_EXTERN void hv_codec_stats_get(const hv_codec *c, hv_codec_stats *out);
/* Copies the limits the codec enforces (frame_max_bytes from its options). */
HV_EXTERN void hv_codec_limits_get(const hv_codec *c, hv_codec_limits *out);

/* ---- Streams ----------------------------------------------------------------------------- */

/*
 * Receiving one stream (STREAM_START, STREAM_DATA in order, STREAM_END) into a caller-supplied
 * buffer. A state machine with no allocation, clock or I/O: feed it the decoded messages of one
 * stream as they arrive (an ordered connection or bus lane keeps them in order); give up on a
 * stream that goes quiet with your own timer. The struct is visible so it can live on the stack;
 * its fields are private except where noted. One thread at a time.
 */
enum hv_stream_state {
    HV_STREAM_IDLE = 0, /* waiting for STREAM_START */
    HV_STREAM_OPEN,     /* receiving STREAM_DATA */
    HV_STREAM_COMPLETE, /* STREAM_END accepted: the content is dst[0 .. received), verified */
    HV_STREAM_FAILED    /* a message broke the rules; `error` says how (sticky) */
};

typedef struct hv_stream_rx {
    int state;            /* enum hv_stream_state (read it) */
    int error;            /* HV_E* that failed the stream (read it) */
    uint64_t stream_id;   /* from STREAM_START (read it) */
    uint64_t received;    /* content bytes so far (read it) */
    uint32_t chunks;      /* DATA messages so far (read it) */
    uint8_t content_type; /* from STREAM_START (read it) */
    uint64_t announced;   /* STREAM_START's total_bytes, 0 = unknown */
    uint32_t chunk_max;
    uint8_t *dst;
    size_t cap;
} hv_stream_rx;

/* Prepares rx to receive one stream into dst (cap bytes; the caller owns dst). */
HV_EXTERN void hv_stream_rx_init(hv_stream_rx *rx, uint8_t *dst, size_t cap);

/*
 * Feeds one decoded message. Returns 0 (accepted, more to come), 1 (STREAM_END accepted: the
 * stream is COMPLETE and dst[0 .. received) holds content whose length, chunk count and
 * BLAKE2b-256 hash match STREAM_END), or an error, after which the stream is FAILED and every
 * later call returns that error:
 *   HV_EBADTYPE   not a stream message;
 *   HV_ESTATE     DATA or END before START, a second START, anything after END;
 *   HV_ENOTFOUND  a stream_id other than the one START opened;
 *   HV_ESTREAMGAP a DATA offset other than the bytes received so far (lost, repeated or
 *                 reordered chunk);
 *   HV_ETOOBIG    a chunk above START's chunk_bytes, content beyond START's total_bytes, or
 *                 beyond cap (announced totals above cap fail at START), 2^32 - 1 chunks;
 *   HV_EBADLEN    END's total_bytes or chunks differ from what arrived, or START announced a
 *                 total that did not arrive;
 *   HV_ECHECKSUM  the content's hash differs from END's content_hash;
 *   HV_ECLOSED    the sender aborted the stream (END with status ABORTED).
 */
HV_EXTERN int hv_stream_rx_feed(hv_stream_rx *rx, const hv_msg *m);

/* BLAKE2b-256 of len bytes: the content_hash a sender puts in STREAM_END. Any thread. */
HV_EXTERN void hv_stream_hash(const void *data, size_t len, uint8_t out[HV_HASH_BYTES]);

/* ---- JSON form --------------------------------------------------------------------------- */

/*
 * Converts a decoded frame to its JSON form, one line of compact JSON:
 *   {"type":"vote","seq":7,"correlation_id":0,"timestamp_ns":1,"sender_id":3,"topic":"a.b",
 *    "flags":["ack_requested"],"payload":{...}}
 * Returns a malloc'd NUL-terminated string (caller frees) or NULL with *err set to HV_ENOMEM or
 * HV_EBADTYPE. Batches expand to {"type":"batch",...,"payload":{"frames":[...]}}.
 */
HV_EXTERN char *hv_json_from_msg(const hv_frame *f, const hv_msg *m, int *err);

/*
 * Parses one JSON message (the form above; only "type" and "payload" are required) and encodes
 * it as a binary frame into buf. Returns the frame length, or HV_EBADJSON (syntax, unknown key
 * or type, wrong value type, out-of-range value: errbuf says which), HV_ENOBUFS (*needed set),
 * or any hv_frame_encode() error. errbuf may be NULL. Allocates while parsing (not a hot path).
 */
HV_EXTERN int hv_json_to_frame(const char *json, size_t len, uint8_t *buf, size_t cap,
                               size_t *needed, char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_CODEC_H */
