# smtplab: the two commands of the README, and a few more for developers.
#   make run   installs missing Debian packages, builds a release build, opens the lab
#   make test  the same set-up, then the whole test suite (ASan + UBSan build)
JOBS    ?= $(shell nproc)
RELEASE := build/release
ASAN    := build/asan
FUZZ    := build/fuzz
TSAN    := build/tsan
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_COMMON := -DSMTPLAB_WERROR=ON
# ccache (when installed) shares compiled objects across clones of this repo:
# paths below the checkout are hashed relative to it.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: run test deps release asan fuzz tsan golden bench clean

run: release
	./$(RELEASE)/smtplab

deps:
	@bash scripts/install-deps.sh

release: deps
	@test -f $(RELEASE)/CMakeCache.txt || cmake -S . -B $(RELEASE) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_COMMON) -DSMTPLAB_TESTS=OFF
	cmake --build $(RELEASE) -j $(JOBS)

asan: deps
	@test -f $(ASAN)/CMakeCache.txt || cmake -S . -B $(ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_COMMON) -DSMTPLAB_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
	cmake --build $(ASAN) -j $(JOBS)

fuzz: deps
	@test -f $(FUZZ)/CMakeCache.txt || CC=clang CXX=clang++ cmake -S . -B $(FUZZ) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_COMMON) -DSMTPLAB_FUZZ=ON -DSMTPLAB_TESTS=OFF -DSMTPLAB_GUI=OFF
	cmake --build $(FUZZ) -j $(JOBS)
	@if [ -x tests/fuzz/run.sh ]; then bash tests/fuzz/run.sh $(FUZZ); fi

# The whole suite: a release build (warnings are errors), the sanitizer build
# of every test, ctest (unit, golden and end-to-end), the sweep under
# ThreadSanitizer, then short fuzz runs.
test: release asan
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory tsan
	@if [ -d tests/fuzz ] && ls tests/fuzz/*.cpp >/dev/null 2>&1; then $(MAKE) --no-print-directory fuzz; fi

# ThreadSanitizer over the one place sim/ uses threads (a sweep's runs side
# by side, sim/scenario/sweep.cpp): it catches shared state that a change
# to the simulator, written single-threaded, might add (a static cache).
# About 4 minutes on 2 cores. -Wno-tsan: GCC warns that Asio's
# atomic_thread_fence (in the bridge, one thread) is not instrumented.
tsan: deps
	@test -f $(TSAN)/CMakeCache.txt || cmake -S . -B $(TSAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_COMMON) -DSMTPLAB_GUI=OFF -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g -fsanitize=thread -Wno-tsan" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
	cmake --build $(TSAN) -j $(JOBS) --target test_sweep
	TSAN_OPTIONS=halt_on_error=1 ./$(TSAN)/tests/test_sweep

# Regenerates the golden traces in tests/golden/ (review the diff, then commit).
golden: release
	bash tests/golden/update.sh ./$(RELEASE)/smtplab

bench: release
	./$(RELEASE)/smtplab bench

clean:
	rm -rf build
