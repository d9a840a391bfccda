/*
 * Internal: assertions for invariants, the things hivewire's own code guarantees.
 *
 *   HV_ASSERT(cond)        on in every build, release included. For checks that cost a compare
 *                          or two beside the work around them: state-machine entries (time
 *                          never runs backwards), counts against their bounds after an update,
 *                          table lookups by an index the code computed.
 *   HV_DEBUG_ASSERT(cond)  compiled only without NDEBUG, that is in the Debug builds `make test`
 *                          runs under ASan+UBSan, TSan and libFuzzer; in release builds the
 *                          condition is not evaluated (it must have no side effects). Only for
 *                          checks on a per-element or per-message path whose cost would show in
 *                          a benchmark, or that walk a structure. docs/ARCHITECTURE.md lists
 *                          every one and why it is not on in release.
 *
 * A failed assertion prints "hivewire: assertion failed: <cond> (<file>:<line> in <function>)"
 * to stderr and aborts: the process is in a state its code says cannot happen, and going on
 * would corrupt data or hide the bug.
 *
 * Never assert on what outside input can reach: bytes from the network or a file, a peer's
 * message fields, CLI options, a caller's arguments that the API documents as checked. Those
 * are checked and refused with an HV_E* code.
 */
#ifndef HV_CORE_ASSERT_H
#define HV_CORE_ASSERT_H

/* Prints the failed assertion and aborts. Called only by the macros below. */
__attribute__((noreturn, cold)) void hv__assert_fail(const char *cond, const char *file, int line,
                                                     const char *func);

#define HV_ASSERT(cond) \
    (__builtin_expect(!!(cond), 1) ? (void)0 : hv__assert_fail(#cond, __FILE__, __LINE__, __func__))

#ifdef NDEBUG
#define HV_DEBUG_ASSERT(cond) ((void)sizeof(!(cond)))
#else
#define HV_DEBUG_ASSERT(cond) HV_ASSERT(cond)
#endif

#endif
