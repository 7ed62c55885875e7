# Quick start: `make demo` and `make test` do all the set-up on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# `make install PREFIX=$HOME/.local`; DESTDIR is honoured too (staged installs).
PREFIX ?= /usr/local
CONFIGURE = cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

.PHONY: all deps build build-bin build-asan build-fuzz demo demo-stack test test-release test-asan fuzz bench install deb clean

all: build

deps:
	@scripts/setup.sh

build: deps
	@$(CONFIGURE)
	@cmake --build build -j $(JOBS)

# Only the headroom binary (no tests, benchmarks or fuzzers): what install and deb need.
build-bin: deps
	@$(CONFIGURE)
	@cmake --build build -j $(JOBS) --target headroom

# bin/headroom, and README, docs/ and examples/ in share/doc/headroom, under PREFIX.
install: build-bin
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"

# build/headroom_<version>_amd64.deb (installs to /usr); `sudo apt-get install ./build/headroom_*.deb`.
deb: build-bin
	cd build && cpack -G DEB

build-asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEADROOM_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	@CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEADROOM_FUZZ=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets

demo: build
	./build/headroom demo

# The three-tier shop on a local PostgreSQL and Redis: stress, explain, fix, measure again (~3 min).
demo-stack: build
	./build/headroom demo --stack

test-release: build
	ctest --test-dir build --output-on-failure -j 2

# The stack end-to-end test (label "stack") measures capacities before and after a fix; under the
# sanitizers those figures mean nothing, so it runs in the Release pass only. The shop's code runs
# under the sanitizers in target_test (against the same real PostgreSQL and Redis).
test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j 2 -LE stack

fuzz: build-fuzz
	scripts/run-fuzzers.sh build-fuzz 30

test: test-release test-asan fuzz

bench: build
	bench/run.sh

clean:
	rm -rf build build-asan build-fuzz
