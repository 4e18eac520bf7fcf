# runner/: the sandrun command. main.c is the entry; the rest is an archive
# so the unit tests can link the pure parts (cli, job specs, inputs).
RUNNER_SRCS := $(filter-out runner/main.c,$(wildcard runner/*.c))
RUNNER_OBJS := $(RUNNER_SRCS:%.c=$(B)/%.o)
RUNNER_LIB  := $(B)/librunner.a

$(RUNNER_LIB): $(RUNNER_OBJS)
	$(ARCHIVE)

$(B)/sandrun: $(B)/runner/main.o $(RUNNER_LIB) $(REPORT_LIB) $(STORE_LIB) $(SANDBOX_LIB) $(LIB_LIB)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

PROGRAMS += $(B)/sandrun
