# A thin front over CMake so a newcomer types one word.
#   make            build (installs missing Debian packages first)
#   make test       build and run the whole test suite
#   make demo       run the main demo (file_storage server + scripted client)
#   make check-sanitize   build with ASan+UBSan and run the whole suite
#   make check-valgrind   run the unit and integration tests under valgrind
#   make fuzz FUZZ_SECONDS=N   run each libFuzzer target for N seconds (clang)
#   make bench      the benchmark table (docs/benchmarks.md)
#   make clean      remove the build tree
# Variables: BUILD_DIR, BUILD_TYPE, NETFW_WERROR=ON|OFF, CMAKE_FLAGS, CC.

MAKEFLAGS += --no-print-directory

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
NETFW_WERROR ?= OFF
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

CMAKE_ARGS = -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DNETFW_WERROR=$(NETFW_WERROR) \
             $(CMAKE_FLAGS)

.PHONY: all deps configure build test demo check-sanitize check-valgrind fuzz clean bench

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

demo: build
	@scripts/demo $(BUILD_DIR)/bin

# ASan + UBSan (no recovery) over the whole suite, in its own build tree.
check-sanitize: deps
	cmake -S . -B $(BUILD_DIR)-sanitize $(CMAKE_ARGS) -DNETFW_SANITIZE=ON \
	  -DCMAKE_C_COMPILER=clang
	cmake --build $(BUILD_DIR)-sanitize -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD_DIR)-sanitize --output-on-failure -j $(JOBS)

# valgrind memcheck over the tests labelled VALGRIND_LABELS (0 definitely
# lost, 0 invalid accesses); end-to-end scripts and load tests are left out.
VALGRIND_LABELS ?= ^(unit|server|client|aclient|calls|gen|bus|tls-c)$$
# Every process counts, forked workers included: the logs are searched.
VALGRIND_DEFECTS = definitely lost in loss record|Invalid (read|write|free)|uninitialised|Mismatched free
check-valgrind: build
	rm -f $(BUILD_DIR)/Testing/Temporary/MemoryChecker.*.log
	ctest --test-dir $(BUILD_DIR) -T memcheck -L '$(VALGRIND_LABELS)' \
	  --output-on-failure --timeout 600 -j $(JOBS)
	@if grep -lE '$(VALGRIND_DEFECTS)' $(BUILD_DIR)/Testing/Temporary/MemoryChecker.*.log; then \
	  echo "check-valgrind: defects in the logs above"; exit 1; \
	else echo "check-valgrind: 0 definitely lost, 0 invalid accesses"; fi

# libFuzzer targets (tests/fuzz) with ASan+UBSan, each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B $(BUILD_DIR)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DNETFW_FUZZ=ON -DNETFW_SANITIZE=ON \
	  -DNETFW_BUILD_EXAMPLES=OFF -DNETFW_BUILD_BENCH=OFF
	cmake --build $(BUILD_DIR)-fuzz -j $(JOBS) \
	  --target fuzz_frame fuzz_decoders fuzz_netproto fuzz_bus fuzz_tls \
	    fuzz_tls_session fuzz_proxy fuzz_http fuzz_desc_json
	scripts/fuzz $(BUILD_DIR)-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR)
