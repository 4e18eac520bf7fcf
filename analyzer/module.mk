# analyzer/: sandrun-analyze, a separate program (no link to runner/ or
# sandbox/). main.c is the entry; the rest is an archive that the unit tests
# and the fuzz target link.
ANALYZER_SRCS := $(filter-out analyzer/main.c,$(wildcard analyzer/*.c))
ANALYZER_OBJS := $(ANALYZER_SRCS:%.c=$(B)/%.o)
ANALYZER_LIB  := $(B)/libanalyzer.a

# It runs under the strict seccomp policy, so no ASan runtime in it.
$(ANALYZER_OBJS) $(B)/analyzer/main.o: SAN_FLAGS := $(ANALYZER_SAN_FLAGS)

$(ANALYZER_LIB): $(ANALYZER_OBJS)
	$(AR) rcs $@ $^

# Linked with its own libraries only, and without the sanitizer flags: the
# UBSan checks trap inline, so no runtime is needed, and every library's
# constructor runs under the strict policy (libcap's, for one, probes
# PR_CAPBSET_READ, which strict refuses).
ANALYZER_LIBS := $(shell pkg-config --libs sndfile libebur128 kissfft-float libseccomp 2>/dev/null) -lm

$(B)/sandrun-analyze: $(B)/analyzer/main.o $(ANALYZER_LIB)
	$(CC) $(CFLAGS) -Wl,--as-needed -o $@ $^ $(ANALYZER_LIBS)

PROGRAMS += $(B)/sandrun-analyze
