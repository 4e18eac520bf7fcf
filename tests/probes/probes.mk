# tests/probes/: hostile probe programs (and two harness helpers) for
# tests/suites/sandbox.sh. Each tests/probes/<name>.c is one program,
# $(B)/probes/<name>. Built on purpose WITHOUT sanitizers and without the
# project's CFLAGS: they must run unchanged under the strict seccomp policy
# and must not need an ASan runtime inside the sandbox.
# Run them only inside a sandbox (see tests/probes/README.md).
PROBE_SRCS   := $(wildcard tests/probes/*.c)
PROBES       := $(PROBE_SRCS:tests/probes/%.c=$(B)/probes/%)
PROBE_CFLAGS := -O1 -g -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -pthread

$(B)/probes/%: tests/probes/%.c tests/probes/probes.mk
	@mkdir -p $(dir $@)
	$(CC) $(PROBE_CFLAGS) -o $@ $<

probes: $(PROBES)
programs: $(PROBES)
unit-tests: $(PROBES)

.PHONY: probes
