# store/: the store contract (store/store.h, the one public header), the
# retry policy over outcomes, and the SQLite implementation, built as a
# static archive. store_internal.h is private to store/*.c.
STORE_SRCS := $(wildcard store/*.c)
STORE_OBJS := $(STORE_SRCS:%.c=$(B)/%.o)
STORE_LIB  := $(B)/libstore.a

$(STORE_LIB): $(STORE_OBJS)
	$(ARCHIVE)
