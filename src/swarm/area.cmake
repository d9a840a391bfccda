# swarm: the trading swarm (agents on the bus, consensus, simulated exchange, profiler).
hv_library_sources(src/swarm/wire.c src/swarm/agents.c src/swarm/coord.c src/swarm/swarm.c)

hv_cli_command(NAME run FUNC hv_cmd_run
               HELP "run the trading swarm over the S&P 500 series (make run)"
               SOURCES src/swarm/cli_swarm.c)
