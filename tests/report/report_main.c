/* tests/report/report_main.c — `sandrun report` as a program of its own,
 * for tests/suites/report.sh when the sandrun binary under test does not
 * have the report subcommand wired into runner/main.c yet. */
#include "runner/report.h"

int main(int argc, char **argv)
{
	argv[0] = "report";
	return cmd_report(argc, argv);
}
