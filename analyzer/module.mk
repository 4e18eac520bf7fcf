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

$(B)/sandrun-analyze: $(B)/analyzer/main.o $(ANALYZER_LIB)
	$(CC) $(CFLAGS) $(ANALYZER_SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

PROGRAMS += $(B)/sandrun-analyze
