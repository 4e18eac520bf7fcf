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
# kissfft is not among them: analyzer/fft.c is the FFT, kissfft only the
# unit tests' oracle (tests/unit/test_analyzer_fft.c).
ANALYZER_LIBS := $(shell pkg-config --libs sndfile nettle libseccomp 2>/dev/null) -lm

$(B)/sandrun-analyze: $(B)/analyzer/main.o $(ANALYZER_LIB)
	$(CC) $(CFLAGS) -Wl,--as-needed -o $@ $^ $(ANALYZER_LIBS)

PROGRAMS += $(B)/sandrun-analyze

# analyzer/decoder/: sandrun-decode, the FFmpeg fallback (a separate program:
# FFmpeg's ~130 libraries are loaded only when a file needs them). Its
# seccomp policy, policies/decode.json, is compiled in: inside the sandbox
# it cannot read a file.
DECODER_SRCS := $(wildcard analyzer/decoder/*.c)
DECODER_OBJS := $(DECODER_SRCS:%.c=$(B)/%.o) $(B)/analyzer/sniff.o $(B)/analyzer/fdio.o \
                $(B)/analyzer/decoder/policy_text.o
DECODER_LIBS := $(shell pkg-config --libs libavformat libavcodec libavutil libchromaprint jansson libseccomp 2>/dev/null)

$(DECODER_OBJS): SAN_FLAGS := $(ANALYZER_SAN_FLAGS)
$(DECODER_SRCS:%.c=$(B)/%.o): CFLAGS += $(shell pkg-config --cflags libavformat libavcodec libavutil 2>/dev/null)

# policies/decode.json as a C string (coreutils only: od and sed)
$(B)/analyzer/decoder/policy_text.c: policies/decode.json
	@mkdir -p $(dir $@)
	{ echo '/* generated from policies/decode.json by analyzer/module.mk */'; \
	  echo 'const char an_decode_policy_text[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0 };'; } >$@

$(B)/analyzer/decoder/policy_text.o: $(B)/analyzer/decoder/policy_text.c
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(B)/sandrun-decode: $(DECODER_OBJS)
	$(CC) $(CFLAGS) -Wl,--as-needed -o $@ $^ $(DECODER_LIBS)

PROGRAMS += $(B)/sandrun-decode
