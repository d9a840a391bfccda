# platform: the operating-system layer (clock, futex and eventfd waits, CPU affinity, scheduling
# policy, per-thread resource usage). Sockets will join it: a transport registers its own file
# here from its own area.cmake with hv_library_sources(src/platform/<file>.c).
hv_library_sources(src/platform/clock.c src/platform/wait.c src/platform/cpu.c src/platform/proc.c)

hv_add_test(NAME platform SOURCES tests/platform/platform_test.c LABELS concurrent TIMEOUT 60)
