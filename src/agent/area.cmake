# agent: agents as I/O-free state machines, the links they send through, and the runners that
# drive them (one thread for all, or a thread each).
hv_library_sources(src/agent/runner.c src/agent/bus_link.c src/agent/net_link.c)
