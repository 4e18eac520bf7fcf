# tests/: every tests/unit/test_*.c is one cmocka binary linked against all
# module archives. tests/run.sh finds and runs them (TAP output).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

$(B)/tests/%: $(B)/tests/unit/%.o $(RUNNER_LIB) $(SANDBOX_LIB) $(ANALYZER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

unit-tests: $(UNIT_TESTS)

# Hostile probe programs (tests/probes/probes.mk) — built without
# sanitizers, run only inside sandboxes.
-include tests/probes/probes.mk
