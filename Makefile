# sandrun — top-level build. Each module owns a fragment (<module>/module.mk)
# that appends to the lists below; this file holds only the shared rules.
#
#   make            build into build/
#   make test       build with ASan/UBSan into build/test and run every test
#   make demo       install missing deps, build, run the demo
#   make install    PREFIX=/usr/local DESTDIR= BINDIR= LIBEXECDIR=
#   make deps       apt-get install what is missing (nothing when complete)

VERSION    := $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/sandrun
DATADIR    ?= $(PREFIX)/share/sandrun
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

B   ?= build
SAN ?= 0
CC  ?= gcc

PKGS := libseccomp libcap sqlite3 jansson sndfile libebur128 kissfft-float
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

WARN   := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 -D_GNU_SOURCE $(WARN) -I. $(PKG_CFLAGS) \
          -DSANDRUN_VERSION='"$(VERSION)"' \
          -DSANDRUN_REL_LIBEXEC='"$(shell realpath -m --relative-to=$(BINDIR) $(LIBEXECDIR))"' \
          -DSANDRUN_REL_DATA='"$(shell realpath -m --relative-to=$(BINDIR) $(DATADIR))"'
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The analyzer runs under the strict seccomp policy: no ASan runtime (it
# needs syscalls the policy refuses); UBSan traps without a runtime.
ANALYZER_SAN_FLAGS := -fsanitize=undefined -fsanitize-undefined-trap-on-error
else
SAN_FLAGS :=
ANALYZER_SAN_FLAGS :=
endif

PROGRAMS   :=
UNIT_TESTS :=
MANPAGES   := $(wildcard docs/*.[1-8])

all: programs

include sandbox/module.mk
include runner/module.mk
include analyzer/module.mk
include tests/module.mk

programs: $(PROGRAMS) $(B)/policies

# Let a binary in the build tree find the policy sources (see runner/paths.c).
$(B)/policies:
	@mkdir -p $(B)
	ln -sfn $(CURDIR)/policies $@

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	packaging/deps.sh build

test: 
	packaging/deps.sh build test
	$(MAKE) B=build/test SAN=1 programs unit-tests
	tests/run.sh build/test

demo:
	packaging/deps.sh build demo
	$(MAKE) programs
	tests/demo.sh $(B)

bench: programs
	bench/run.sh $(B)

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/policies
	install -m 755 $(B)/sandrun $(DESTDIR)$(BINDIR)/sandrun
	install -m 755 $(B)/sandrun-analyze $(DESTDIR)$(LIBEXECDIR)/sandrun-analyze
	install -m 644 policies/*.json $(DESTDIR)$(DATADIR)/policies/
	for m in $(MANPAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sandrun $(DESTDIR)$(LIBEXECDIR)/sandrun-analyze
	rm -f $(patsubst policies/%,$(DESTDIR)$(DATADIR)/policies/%,$(wildcard policies/*.json))
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); done
	-rmdir $(DESTDIR)$(DATADIR)/policies $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf build

.PHONY: all programs deps test demo bench install uninstall clean unit-tests
