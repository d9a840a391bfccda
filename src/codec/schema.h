/*
 * HVW1 payload schemas, internal to the codec.
 *
 * One X-macro list per message type: F(KIND, field, aux). The binary encoder and decoder, the
 * validator, the JSON form, equality and the random generator are all expanded from these
 * lists, so they cannot disagree. Expansion yields straight-line code (no per-field dispatch).
 *
 * Wire layout of a payload: every fixed-size field in list order, then every variable-size
 * field in list order (docs/PROTOCOL.md gives the offsets).
 *
 * Fixed kinds: U8 U16 U32 U64 I32 F32 F64, UNIT (f32 in [0,1]), ENUM (u8 below the size of the
 * name table `aux`), PRIO (u8 0..10), BOOL (u8 0/1), BITS (u8 within mask `aux`), H32 (32 raw
 * bytes), S64 (64 raw bytes).
 * Variable kinds: STR (u16 length + UTF-8), BYTES (u32 length + bytes), F32V (u32 count + f32s),
 * U64V (u16 count + u64s), U32V (u16 count + u32s), STREAMS (u8 count + 4-byte records),
 * METRICS (u8 count + records).
 */
#ifndef HV_CODEC_SCHEMA_H
#define HV_CODEC_SCHEMA_H

#include <hivewire/codec.h>

#include "codec/text.h"

#define HV_S_handshake(F)                       \
    F(U64, agent_id, 0)                         \
    F(U64, capabilities, 0)                     \
    F(U32, frame_max_bytes, 0)                  \
    F(U32, intern_bytes_max, 0)                 \
    F(U16, version_min, 0)                      \
    F(U16, version_max, 0)                      \
    F(U16, intern_max, 0)                       \
    F(U16, batch_frames_max, 0)                 \
    F(ENUM, role, hv__role_names)               \
    F(BITS, encodings, HV_ENCODINGS_KNOWN)      \
    F(BITS, compression, HV_COMPRESSIONS_KNOWN) \
    F(STR, name, 0)                             \
    F(STR, metadata, 0)                         \
    F(BYTES, auth, 0)

#define HV_S_handshake_ack(F)                   \
    F(U64, coordinator_id, 0)                   \
    F(U64, session_id, 0)                       \
    F(U32, frame_max_bytes, 0)                  \
    F(U32, intern_bytes_max, 0)                 \
    F(U32, compress_above_bytes, 0)             \
    F(U32, heartbeat_interval_ms, 0)            \
    F(U32, task_timeout_ms, 0)                  \
    F(U32, max_buffer_bytes, 0)                 \
    F(I32, error_code, 0)                       \
    F(U16, version, 0)                          \
    F(U16, intern_max, 0)                       \
    F(U16, batch_frames_max, 0)                 \
    F(ENUM, status, hv__hs_status_names)        \
    F(BITS, encoding, HV_ENCODINGS_KNOWN)       \
    F(BITS, compression, HV_COMPRESSIONS_KNOWN) \
    F(STREAMS, streams, 0)                      \
    F(BYTES, session_token, 0)                  \
    F(STR, reason, 0)

#define HV_S_ack(F)                       \
    F(U64, acked_sender, 0)               \
    F(U64, acked_seq, 0)                  \
    F(I32, error_code, 0)                 \
    F(ENUM, status, hv__ack_status_names) \
    F(STR, reason, 0)

#define HV_S_heartbeat(F)   \
    F(U64, memory_bytes, 0) \
    F(UNIT, load, 0)        \
    F(U32, active_tasks, 0) \
    F(U32, queue_depth, 0)

#define HV_S_error(F)  \
    F(U64, ref_seq, 0) \
    F(I32, code, 0)    \
    F(STR, message, 0) \
    F(STR, context, 0)

#define HV_S_task_assign(F)            \
    F(U64, task_id, 0)                 \
    F(U64, agent_id, 0)                \
    F(U32, timeout_ms, 0)              \
    F(ENUM, kind, hv__task_kind_names) \
    F(PRIO, priority, 0)               \
    F(BYTES, input, 0)

#define HV_S_task_result(F)            \
    F(U64, task_id, 0)                 \
    F(U64, duration_ns, 0)             \
    F(I32, error_code, 0)              \
    F(ENUM, kind, hv__task_kind_names) \
    F(BOOL, success, 0)                \
    F(BYTES, output, 0)                \
    F(STR, error, 0)

#define HV_S_pattern_result(F)  \
    F(U64, pattern_id, 0)       \
    F(U64, compute_ns, 0)       \
    F(F32, similarity, 0)       \
    F(UNIT, confidence, 0)      \
    F(F32, expected_outcome, 0) \
    F(F32, actual_outcome, 0)   \
    F(BOOL, has_actual, 0)      \
    F(F32V, vector, 0)          \
    F(STR, context, 0)

#define HV_S_strategy_correlation(F)       \
    F(U64, window_ns, 0)                   \
    F(ENUM, method, hv__corr_method_names) \
    F(U64V, strategy_ids, 0)               \
    F(F32V, matrix, 0)

#define HV_S_reasoning_experience(F) \
    F(U64, experience_id, 0)         \
    F(U64, latency_ns, 0)            \
    F(F64, outcome_value, 0)         \
    F(UNIT, outcome_confidence, 0)   \
    F(STR, action, 0)                \
    F(STR, context, 0)

#define HV_S_neural_gradients(F) \
    F(U64, model_id, 0)          \
    F(U64, step, 0)              \
    F(U32, layer, 0)             \
    F(F32, loss, 0)              \
    F(F32, learning_rate, 0)     \
    F(F32V, gradients, 0)

#define HV_S_stream_start(F)                 \
    F(U64, stream_id, 0)                     \
    F(U64, total_bytes, 0)                   \
    F(U32, chunk_bytes, 0)                   \
    F(ENUM, content_type, hv__content_names) \
    F(STR, name, 0)

#define HV_S_stream_data(F) \
    F(U64, stream_id, 0)    \
    F(U64, offset, 0)       \
    F(BYTES, chunk, 0)

#define HV_S_stream_end(F)                   \
    F(U64, stream_id, 0)                     \
    F(U64, total_bytes, 0)                   \
    F(U32, chunks, 0)                        \
    F(I32, error_code, 0)                    \
    F(ENUM, status, hv__stream_status_names) \
    F(H32, content_hash, 0)

#define HV_S_publish(F)                      \
    F(U64, coalesce_key, 0)                  \
    F(U32, ttl_ms, 0)                        \
    F(ENUM, priority, hv__priority_names)    \
    F(ENUM, content_type, hv__content_names) \
    F(BYTES, data, 0)

#define HV_S_subscribe(F)             \
    F(U64, subscription_id, 0)        \
    F(U32, inbox_capacity, 0)         \
    F(ENUM, policy, hv__policy_names) \
    F(STR, pattern, 0)                \
    F(STR, queue_group, 0)

#define HV_S_unsubscribe(F) F(U64, subscription_id, 0)

#define HV_S_proposal(F)                        \
    F(U64, proposal_id, 0)                      \
    F(U64, proposer, 0)                         \
    F(U64, deadline_ns, 0)                      \
    F(U32, round, 0)                            \
    F(U32, quorum, 0)                           \
    F(U16, threshold_num, 0)                    \
    F(U16, threshold_den, 0)                    \
    F(ENUM, action, hv__action_names)           \
    F(ENUM, criticality, hv__criticality_names) \
    F(ENUM, rule, hv__rule_names)               \
    F(H32, payload_hash, 0)                     \
    F(S64, signature, 0)                        \
    F(U64V, voters, 0)                          \
    F(U32V, weights, 0)                         \
    F(BYTES, payload, 0)

#define HV_S_vote(F)                  \
    F(U64, proposal_id, 0)            \
    F(U64, voter, 0)                  \
    F(U32, round, 0)                  \
    F(U32, weight, 0)                 \
    F(ENUM, choice, hv__choice_names) \
    F(ENUM, auth, hv__auth_names)     \
    F(H32, payload_hash, 0)           \
    F(S64, signature, 0)

#define HV_S_decision(F)                \
    F(U64, proposal_id, 0)              \
    F(U64, decided_ns, 0)               \
    F(U64, approve_weight, 0)           \
    F(U64, reject_weight, 0)            \
    F(U64, abstain_weight, 0)           \
    F(U32, round, 0)                    \
    F(U32, approvals, 0)                \
    F(U32, rejections, 0)               \
    F(U32, abstentions, 0)              \
    F(U32, votes_needed, 0)             \
    F(ENUM, outcome, hv__outcome_names) \
    F(ENUM, rule, hv__rule_names)       \
    F(H32, payload_hash, 0)             \
    F(S64, signature, 0)                \
    F(U64V, excluded, 0)

#define HV_S_metrics(F)    \
    F(U64, interval_ns, 0) \
    F(METRICS, entries, 0)

/* The schema-described types (every type but BATCH). X(NAME, value, lower). */
#define HV_SCHEMA_TYPES(X)                              \
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

/* Names of enum values (JSON form), indexed by wire value. */
typedef struct hv__names {
    const char *const *v;
    unsigned n;
} hv__names;

extern const hv__names hv__role_names, hv__hs_status_names, hv__ack_status_names,
    hv__task_kind_names, hv__corr_method_names, hv__priority_names, hv__content_names,
    hv__policy_names, hv__action_names, hv__criticality_names, hv__rule_names, hv__choice_names,
    hv__auth_names, hv__outcome_names, hv__metric_kind_names, hv__purpose_names,
    hv__stream_status_names;

/* Size of the fixed part of each kind. */
#define HV_FSZ_U8      1
#define HV_FSZ_U16     2
#define HV_FSZ_U32     4
#define HV_FSZ_U64     8
#define HV_FSZ_I32     4
#define HV_FSZ_F32     4
#define HV_FSZ_F64     8
#define HV_FSZ_UNIT    4
#define HV_FSZ_ENUM    1
#define HV_FSZ_PRIO    1
#define HV_FSZ_BOOL    1
#define HV_FSZ_BITS    1
#define HV_FSZ_H32     32
#define HV_FSZ_S64     64
#define HV_FSZ_STR     0
#define HV_FSZ_BYTES   0
#define HV_FSZ_F32V    0
#define HV_FSZ_U64V    0
#define HV_FSZ_U32V    0
#define HV_FSZ_STREAMS 0
#define HV_FSZ_METRICS 0

#define HV_FSZ_(kind, name, aux) +HV_FSZ_##kind

/* Internal helpers shared by the codec's files. */
int hv__msg_validate(const hv_msg *m);
int hv__type_known(unsigned type);

/*
 * Explanations, for error messages (cold; they allocate nothing). Each runs the same checks in
 * the same order as its fast counterpart, returns the same code, and on failure writes to
 * why[0..n) which field or byte broke which rule ("payload.load: 1.5 is outside 0..1"):
 *   hv__msg_explain_rules()  as hv__msg_validate(): a message about to be encoded;
 *   hv__msg_explain()        as hv_msg_decode(): an uncompressed frame's payload;
 *   hv__frame_explain()      as hv_decode(): a whole frame (header, decompression into
 *                            scratch[0..cap), payload).
 */
int hv__msg_explain_rules(const hv_msg *m, char *why, size_t n);
/* Writes the explanation (printf-style) to why[0..n) when why is not NULL; returns rv. */
int hv__why(char *why, size_t n, int rv, const char *fmt, ...)
    __attribute__((cold, format(printf, 4, 5)));
int hv__msg_explain(const hv_frame *f, char *why, size_t n);
int hv__frame_explain(const uint8_t *buf, size_t len, const hv_codec_limits *lim, uint8_t *scratch,
                      size_t cap, char *why, size_t n);

#endif
