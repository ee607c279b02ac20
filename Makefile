# A thin front over CMake so a newcomer types one word.
#   make            build (installs missing Debian packages first)
#   make test       build and run the whole test suite
#   make demo       run the main demo (arrives with the examples)
#   make clean      remove the build tree
# Variables: BUILD_DIR, BUILD_TYPE, NETFW_WERROR=ON|OFF, CMAKE_FLAGS, CC.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
NETFW_WERROR ?= OFF
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

CMAKE_ARGS = -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DNETFW_WERROR=$(NETFW_WERROR) \
             $(CMAKE_FLAGS)

.PHONY: all deps configure build test clean bench

all: build

deps:
	@scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The benchmark table of docs/benchmarks.md; BENCH_ARGS=--quick for a smoke run.
bench: build
	bench/run-bench --bin $(BUILD_DIR)/bin $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR)
