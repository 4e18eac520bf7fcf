# tests/: every tests/unit/test_*.c is one cmocka binary linked against all
# module archives and the test kit (tests/unit/testkit.c: the one way a test
# forks, the host capabilities). tests/run.sh finds and runs them (TAP).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
TESTKIT    := $(B)/tests/unit/testkit.o
# Harness programs: the host-capability probe run once per test run, and
# the wrapper that emulates a host without i386 syscalls.
TEST_TOOLS := $(B)/tests/hostcaps $(B)/tests/no-ia32

$(B)/tests/%: $(B)/tests/unit/%.o $(TESTKIT) $(RUNNER_LIB) $(REPORT_LIB) $(STORE_LIB) $(SANDBOX_LIB) $(ANALYZER_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(PQ_LIBS) -lcmocka

$(B)/tests/hostcaps: $(B)/tests/unit/hostcaps.o $(TESTKIT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^

# No sanitizer: it only installs a filter and execs.
$(B)/tests/no-ia32: tests/lib/no-ia32.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -o $@ $<

# libebur128 is the oracle of the analyzer's own loudness meter: only the
# tests that compare with it link it (analyzer/loudness.h).
$(B)/tests/test_analyzer_r128: PKG_LIBS += $(shell pkg-config --libs libebur128 2>/dev/null)

# The fingerprint's test compares with libchromaprint itself.
$(B)/tests/test_analyzer_ingest: PKG_LIBS += $(shell pkg-config --libs libchromaprint 2>/dev/null)

unit-tests: $(UNIT_TESTS) $(TEST_TOOLS)

# Hostile probe programs (tests/probes/probes.mk) — built without
# sanitizers, run only inside sandboxes.
-include tests/probes/probes.mk
