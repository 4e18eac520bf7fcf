# lib/: pure helpers with no module state (docs/design.md); every other
# module of ours may use it, it uses only libc and packaged libraries.
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB_LIB  := $(B)/libsrlib.a

$(LIB_LIB): $(LIB_OBJS)
	$(ARCHIVE)
