# Custos: the two commands are `make demo` and `make test`.
#
#   make build   install missing Debian packages, configure, build -> build/custos
#   make test    build, run every test (ctest), then the same suite under ASan+UBSan
#                (but the tests labelled plain_only: a minute of several processes
#                on one vault, and commands killed through an LD_PRELOAD library,
#                which the sanitizers' runtimes do not mix with)
#   make demo    run the main job end to end on synthetic data
#   make bench   build Release benchmarks and run them (docs/BENCHMARKS.md)
#   make fuzz    build the libFuzzer targets with clang 14 (build-fuzz/)
#   make format  clang-format every source file in place

JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap build test test-plain test-asan demo bench fuzz format lint clean

all: build

bootstrap:
	@scripts/bootstrap
	@scripts/npm-setup

build: bootstrap
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@ninja -C build -j $(JOBS)

test-plain: build
	ctest --test-dir build --output-on-failure -j $(JOBS)

test-asan: bootstrap
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCUSTOS_SANITIZE=ON \
	  -DCUSTOS_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@ninja -C build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE plain_only

test: test-plain test-asan

demo: build
	@scripts/demo

bench: bootstrap
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@ninja -C build-release -j $(JOBS)
	@bench/run-all

fuzz: bootstrap
	@CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCUSTOS_FUZZ=ON -DCUSTOS_BENCH=OFF >/dev/null
	@ninja -C build-fuzz -j $(JOBS)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format-14 -i

lint: build
	@git ls-files 'src/*.cc' | grep -v _test.cc | xargs clang-tidy-14 -p build --quiet

clean:
	rm -rf build build-asan build-release build-fuzz
