# hivewire: the README's commands. Every target installs missing Debian packages first.
#   make run    build and run the main job on built-in defaults
#   make test   lint, then unit tests in a normal, an ASan+UBSan and a TSan build, then fuzzing
#   make bench  every benchmark, JSON rows under out/bench/
.PHONY: all deps build run test lint format test-release test-asan test-tsan fuzz bench install clean \
	sim-long

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# make test fetches the real market data first, so tests that need it must find it.
export HV_REQUIRE_DATA = 1
CMAKE_GEN  := -G Ninja
FUZZ_SECONDS ?= 60
PREFIX     ?= /usr/local
RUN_ARGS   ?=

all: build

# Debian packages, then (once scripts/fetch-data exists) the real market data under data/.
deps:
	@scripts/install-deps
	@if [ -x scripts/fetch-data ]; then scripts/fetch-data; fi

$(BUILD)/release/build.ninja: | deps
	cmake -S . -B $(BUILD)/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: deps $(BUILD)/release/build.ninja
	cmake --build $(BUILD)/release -j $(JOBS)

run: build
	$(BUILD)/release/hivewire run $(RUN_ARGS)

lint: deps
	@scripts/lint

format: deps
	@scripts/lint --fix

test-release: build
	cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD)/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DHV_SANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-tsan: deps
	cmake -S . -B $(BUILD)/tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DHV_SANITIZE=thread >/dev/null
	cmake --build $(BUILD)/tsan -j $(JOBS)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --output-on-failure -j $(JOBS) -L concurrent

fuzz: deps
	CC=clang cmake -S . -B $(BUILD)/fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DHV_SANITIZE=address,undefined -DHV_FUZZ=ON >/dev/null
	cmake --build $(BUILD)/fuzz -j $(JOBS)
	scripts/run-fuzzers $(BUILD)/fuzz $(FUZZ_SECONDS)

test: lint test-release test-asan test-tsan fuzz
	@echo "make test: all suites passed"

bench: build
	@mkdir -p out/bench
	$(BUILD)/release/hivewire-bench all --json > out/bench/all.jsonl
	@echo "bench: JSON rows in out/bench/all.jsonl"

# The whole-swarm simulator over many more seeds than make test runs (SIM_SEEDS, default 20000).
SIM_SEEDS ?= 20000
sim-long: build
	$(BUILD)/release/hivewire sim swarm --seed 1 --seeds $(SIM_SEEDS) --faults all --synthetic 300

# PREFIX applies at install time, whatever the build was configured with (the pkg-config file
# and the CMake package are relocatable); a system install refreshes the loader cache.
install: build
	cmake --install $(BUILD)/release --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
