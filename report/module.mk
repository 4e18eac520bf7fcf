# report/: the HTML report (docs/report.md), built as a static archive. It
# reads the store through store/store.h and has no command-line code
# (`sandrun report` is runner/report_cmd.c).
REPORT_SRCS := $(wildcard report/*.c)
REPORT_OBJS := $(REPORT_SRCS:%.c=$(B)/%.o)
REPORT_LIB  := $(B)/libreport.a

$(REPORT_LIB): $(REPORT_OBJS)
	$(ARCHIVE)
