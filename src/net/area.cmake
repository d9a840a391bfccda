# net: the HVW1 session (I/O-free) and the QUIC transport (ngtcp2 + GnuTLS on libuv).
hv_library_sources(src/net/session.c)

hv_add_test(NAME net_session SOURCES tests/net/session_test.c TIMEOUT 60)
hv_add_test(NAME net_idmap SOURCES tests/net/idmap_test.c TIMEOUT 60)
hv_add_test(NAME net_quic SOURCES tests/net/quic_test.c tests/net/net_util.c TIMEOUT 180)
# Loss (nftables in network namespaces the test makes; skips without root), delay, reordering.
hv_add_test(NAME net_loss SOURCES tests/net/loss_test.c tests/net/net_util.c tests/net/relay.c
            TIMEOUT 180)

hv_add_fuzzer(NAME net_session SOURCES fuzz/net_session.c CORPUS fuzz/corpus/net_session)

pkg_check_modules(NGTCP2 REQUIRED IMPORTED_TARGET libngtcp2 libngtcp2_crypto_gnutls)
pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
hv_library_sources(src/net/quic.c src/net/tls.c src/net/idmap.c src/platform/udp.c)
hv_library_link(PkgConfig::NGTCP2 PkgConfig::GNUTLS PkgConfig::LIBUV)

hv_cli_command(NAME certs FUNC hv_cmd_certs TABLE group
               HELP "make a CA and per-agent certificates (id, role, vote key) for the QUIC transport"
               SOURCES src/net/cli_net.c)
hv_cli_command(NAME net FUNC hv_cmd_net TABLE group
               HELP "net echo (server) and net ping (client): check a QUIC link between two hosts"
               SOURCES)

set(HV_NET_BENCH_LIBS "")
set(HV_NET_BENCH_DEFS "")
if(HV_WITH_PEERS)
  pkg_check_modules(NATS IMPORTED_TARGET libnats)
  if(NATS_FOUND)
    list(APPEND HV_NET_BENCH_LIBS PkgConfig::NATS)
    list(APPEND HV_NET_BENCH_DEFS HV_HAVE_NATS=1)
  endif()
endif()
hv_bench_area(NAME net FUNC hv_bench_net
              HELP "net: HVW1 over QUIC vs GnuTLS over TCP and NATS (plain, TLS) on loopback"
              SOURCES bench/net_bench.c bench/nats_server.c LIBS ${HV_NET_BENCH_LIBS}
              DEFINES ${HV_NET_BENCH_DEFS})
