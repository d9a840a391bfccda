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

#include "codec/types.h"

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

/* The schema-described types (every type but BATCH) are HV_MSG_SCHEMA_TYPE_MAP in codec.h, part
 * of the one table of types. */

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

#endif
