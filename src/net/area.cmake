# net: the HVW1 session (I/O-free) and the QUIC transport (ngtcp2 + GnuTLS on libuv).
hv_library_sources(src/net/session.c)

hv_add_test(NAME net_session SOURCES tests/net/session_test.c TIMEOUT 60)

hv_add_fuzzer(NAME net_session SOURCES fuzz/net_session.c CORPUS fuzz/corpus/net_session)
