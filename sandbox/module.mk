# sandbox/: the kernel-facing module, built as a static archive.
SANDBOX_SRCS := $(wildcard sandbox/*.c)
SANDBOX_OBJS := $(SANDBOX_SRCS:%.c=$(B)/%.o)
SANDBOX_LIB  := $(B)/libsandbox.a

$(SANDBOX_LIB): $(SANDBOX_OBJS)
	$(ARCHIVE)
