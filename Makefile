# sandrun — top-level build. Each module owns a fragment (<module>/module.mk)
# that appends to the lists below; this file holds only the shared rules.
#
#   make            build into build/
#   make test       build with ASan/UBSan into build/test and run every test
#   make check      the unit tests alone (no root, no sandbox, under a minute)
#   make test-noia32  every test as on a host without i386/x32 syscalls
#   make demo       install missing deps, build, run the demo
#   make install    PREFIX=/usr/local DESTDIR= BINDIR= LIBEXECDIR= DATADIR= MANDIR=
#                   SYSTEMDUNITDIR= (empty: no unit); `make uninstall` with the
#                   same variables removes exactly what it installed
#   make deb        build the Debian package into build/deb/ (packaging/build-deb.sh)
#   make deps       apt-get install what is missing (nothing when complete)

VERSION    := $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/sandrun
DATADIR    ?= $(PREFIX)/share/sandrun
MANDIR     ?= $(PREFIX)/share/man
# systemd reads units from /usr/local/lib/systemd/system too; empty: no unit.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# The AppArmor profile granting user namespaces to $(BINDIR)/sandrun
# (packaging/apparmor/sandrun; Ubuntu >= 24.04) and the sysusers.d entry of
# the unprivileged user: empty (the default) installs neither; the Debian
# package sets both.
APPARMORDIR ?=
SYSUSERSDIR ?=
DESTDIR    ?=

# Where the installed sandrun finds its analyzer and policies, relative to
# its own directory (runner/common.c); the build tree layout is the fallback.
REL_LIBEXEC := $(shell realpath -m --relative-to=$(BINDIR) $(LIBEXECDIR))
REL_DATA    := $(shell realpath -m --relative-to=$(BINDIR) $(DATADIR))

B   ?= build
SAN ?= 0
CC  ?= gcc

PKGS := libseccomp libcap sqlite3 libpq jansson sndfile kissfft-float nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null) -lm
# libpq is dlopened by the PostgreSQL backend (store/pg_lib.h); only the
# tests that talk to a server themselves link it.
PQ_LIBS    := $(shell pkg-config --libs libpq 2>/dev/null)

WARN   := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 -D_GNU_SOURCE $(WARN) -I. $(PKG_CFLAGS) \
          -DSANDRUN_VERSION='"$(VERSION)"' \
          -DSANDRUN_REL_LIBEXEC='"$(REL_LIBEXEC)"' -DSANDRUN_REL_DATA='"$(REL_DATA)"'
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The analyzer runs under the strict seccomp policy: no ASan runtime (it
# needs syscalls the policy refuses); UBSan traps without a runtime.
ANALYZER_SAN_FLAGS := -fsanitize=undefined -fsanitize-undefined-trap-on-error
else
SAN_FLAGS :=
ANALYZER_SAN_FLAGS :=
endif

# The recipe of every module's archive: built from scratch, because
# `ar rcs` alone keeps the members of sources that moved or were deleted.
ARCHIVE = rm -f $@ && $(AR) rcs $@ $^

PROGRAMS   :=
UNIT_TESTS :=
MANPAGES   := $(wildcard docs/*.[1-8])

all: programs

include lib/module.mk
include sandbox/module.mk
include store/module.mk
include report/module.mk
include runner/module.mk
include analyzer/module.mk
include tests/module.mk

programs: $(PROGRAMS) $(B)/policies

# Let a binary in the build tree find the policy sources (see runner/common.c).
$(B)/policies:
	@mkdir -p $(B)
	ln -sfn $(CURDIR)/policies $@

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# The objects that compile in the version or the install layout are rebuilt
# when either changes: a new commit, or `make` then `make install
# LIBEXECDIR=...` (else the installed binary would look in the old place).
BUILDINFO := $(B)/.buildinfo
BUILDINFO_TEXT := $(VERSION) $(REL_LIBEXEC) $(REL_DATA)
$(shell mkdir -p $(B) && [ "$$(cat $(BUILDINFO) 2>/dev/null)" = '$(BUILDINFO_TEXT)' ] || echo '$(BUILDINFO_TEXT)' >$(BUILDINFO))
$(patsubst %.c,$(B)/%.o,$(shell grep -l -e SANDRUN_VERSION -e SANDRUN_REL_ */*.c 2>/dev/null)): $(BUILDINFO)

deps:
	packaging/deps.sh build

test: 
	packaging/deps.sh build test deb
	$(MAKE) B=build/test SAN=1 programs unit-tests
	tests/run.sh build/test

# The unit tests only: no root, no packages installed, no sandboxes.
check:
	$(MAKE) B=build/test SAN=1 unit-tests
	tests/run.sh --unit build/test

# The whole suite under a seccomp filter that traps the i386 ABI and
# refuses x32 (tests/lib/no-ia32.c): what a host without them sees.
test-noia32:
	packaging/deps.sh build test deb
	$(MAKE) B=build/test SAN=1 programs unit-tests
	SANDRUN_EMULATE_NO_IA32=1 tests/run.sh build/test

demo:
	packaging/deps.sh build demo
	$(MAKE) programs
	tests/demo.sh $(B)

bench: programs
	bench/run.sh $(B)

# The PostgreSQL store alone (also a section of `make bench`).
bench-pg: programs
	bench/pg.sh $(B)

# Everything install puts in place, as paths under $(DESTDIR); uninstall
# removes exactly these, then the directories that are sandrun's own.
POLICY_FILES := $(notdir $(wildcard policies/*.json))
UNITS := sandrun@.service sandrun-watch@.service sandrun-serve@.service sandrun-rootless@.service
INSTALLED := $(BINDIR)/sandrun $(LIBEXECDIR)/sandrun-analyze $(LIBEXECDIR)/sandrun-decode \
             $(addprefix $(DATADIR)/policies/,$(POLICY_FILES)) \
             $(foreach m,$(MANPAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
             $(if $(SYSTEMDUNITDIR),$(addprefix $(SYSTEMDUNITDIR)/,$(UNITS))) \
             $(if $(APPARMORDIR),$(APPARMORDIR)/sandrun) $(if $(SYSUSERSDIR),$(SYSUSERSDIR)/sandrun.conf)

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/policies
	install -m 755 $(B)/sandrun $(DESTDIR)$(BINDIR)/sandrun
	install -m 755 $(B)/sandrun-analyze $(DESTDIR)$(LIBEXECDIR)/sandrun-analyze
	install -m 755 $(B)/sandrun-decode $(DESTDIR)$(LIBEXECDIR)/sandrun-decode
	install -m 644 $(addprefix policies/,$(POLICY_FILES)) $(DESTDIR)$(DATADIR)/policies/
	for m in $(MANPAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
ifneq ($(SYSTEMDUNITDIR),)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(UNITS); do \
	  sed 's|@BINDIR@|$(BINDIR)|g' packaging/systemd/$$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	  chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
endif
ifneq ($(APPARMORDIR),)
	install -d $(DESTDIR)$(APPARMORDIR)
	sed 's|/usr/bin/sandrun|$(BINDIR)/sandrun|' packaging/apparmor/sandrun >$(DESTDIR)$(APPARMORDIR)/sandrun
	chmod 644 $(DESTDIR)$(APPARMORDIR)/sandrun
endif
ifneq ($(SYSUSERSDIR),)
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 644 packaging/sysusers/sandrun.conf $(DESTDIR)$(SYSUSERSDIR)/sandrun.conf
endif

# Shared directories (bin, share/man/man5, lib/systemd/system) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for d in $(DATADIR)/policies $(DATADIR) $(LIBEXECDIR); do \
	  if [ -d $(DESTDIR)$$d ]; then rmdir $(DESTDIR)$$d 2>/dev/null || echo "uninstall: $$d is not empty, left in place"; fi; done

deb:
	packaging/deps.sh build deb
	packaging/build-deb.sh

clean:
	rm -rf build

.PHONY: all programs deps test check test-noia32 demo bench bench-pg install uninstall deb clean unit-tests
