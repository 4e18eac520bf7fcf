/* tests/unit/test_analyzer_ebu.c — standards conformance of the
 * analyzer's loudness and true-peak measurements: the EBU Tech 3341
 * (loudness, true peak) and Tech 3342 (loudness range) test cases,
 * synthesized here and measured through the same struct an_analysis the
 * decoder drives, with the tolerances the EBU documents state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "analyzer/analysis.h"
#include "tests/analyzer/signals.h"

#define RATE 48000u

struct measured {
	double integrated_lufs, range_lu, true_peak_dbtp, sample_peak_dbfs;
};

static void measure_sine(double hz, double phase_deg, const struct sig_section *sec, size_t n,
			 struct measured *m)
{
	struct an_analysis a;
	struct an_channel_result file;

	assert_int_equal(an_analysis_init(&a, 2, RATE, 1.0f, SIG_BLOCK_FRAMES), 0);
	assert_int_equal(sig_feed_sine(&a, 2, RATE, hz, phase_deg * M_PI / 180.0, sec, n), 0);
	an_loudness_result(&a.loudness, &m->integrated_lufs, &m->range_lu);
	an_analysis_channel(&a, a.channels, &file);
	m->true_peak_dbtp = file.true_peak_dbtp;
	m->sample_peak_dbfs = file.level.peak_dbfs;
	an_analysis_free(&a);
}

static void assert_within(double got, double want, double below, double above)
{
	if (!(got >= want - below && got <= want + above))
		fail_msg("measured %.4f, expected %.2f (-%.2f/+%.2f)", got, want, below, above);
}

/* ---- Tech 3341: integrated loudness, +-0.1 LU ---------------------- */

static void test_3341_case1_minus23(void **state)
{
	static const struct sig_section s[] = { { -23.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 1, &m);
	assert_within(m.integrated_lufs, -23.0, 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

static void test_3341_case2_minus33(void **state)
{
	static const struct sig_section s[] = { { -33.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 1, &m);
	assert_within(m.integrated_lufs, -33.0, 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

static void test_3341_case3_relative_gate(void **state)
{
	static const struct sig_section s[] = { { -36.0, 10.0 }, { -23.0, 60.0 }, { -36.0, 10.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 3, &m);
	assert_within(m.integrated_lufs, -23.0, 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

static void test_3341_case4_absolute_gate(void **state)
{
	static const struct sig_section s[] = {
		{ -72.0, 10.0 }, { -36.0, 10.0 }, { -23.0, 60.0 }, { -36.0, 10.0 }, { -72.0, 10.0 },
	};
	struct measured m;

	measure_sine(1000.0, 0.0, s, 5, &m);
	assert_within(m.integrated_lufs, -23.0, 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

static void test_3341_case5_gating_boundary(void **state)
{
	static const struct sig_section s[] = { { -26.0, 20.0 }, { -20.0, 20.1 }, { -26.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 3, &m);
	assert_within(m.integrated_lufs, -23.0, 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

/* ---- Tech 3342: loudness range, +-1 LU ------------------------------ */

static void test_3342_case1_lra10(void **state)
{
	static const struct sig_section s[] = { { -20.0, 20.0 }, { -30.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 2, &m);
	assert_within(m.range_lu, 10.0, 1.0, 1.0);
	print_message("# measured %.2f LU\n", m.range_lu);
}

static void test_3342_case2_lra5(void **state)
{
	static const struct sig_section s[] = { { -20.0, 20.0 }, { -15.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 2, &m);
	assert_within(m.range_lu, 5.0, 1.0, 1.0);
	print_message("# measured %.2f LU\n", m.range_lu);
}

static void test_3342_case3_lra20(void **state)
{
	static const struct sig_section s[] = { { -40.0, 20.0 }, { -20.0, 20.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 2, &m);
	assert_within(m.range_lu, 20.0, 1.0, 1.0);
	print_message("# measured %.2f LU\n", m.range_lu);
}

static void test_3342_case4_lra15(void **state)
{
	static const struct sig_section s[] = {
		{ -50.0, 20.0 }, { -35.0, 20.0 }, { -20.0, 20.0 }, { -35.0, 20.0 }, { -50.0, 20.0 },
	};
	struct measured m;

	measure_sine(1000.0, 0.0, s, 5, &m);
	assert_within(m.range_lu, 15.0, 1.0, 1.0);
	print_message("# measured %.2f LU\n", m.range_lu);
}

/* Not a conformance case: the integrated loudness has no ceiling. A
 * float file written at int16 scale (samples up to +-32767.0, a common
 * pipeline bug) reads 20*log10(32767) = 90.3 dB above the same file at
 * full scale, where libebur128's histogram stopped at +29.95 LUFS. */
static void test_integrated_not_capped(void **state)
{
	static const struct sig_section s[] = { { -23.0 + 20.0 * log10(32767.0), 5.0 } };
	struct measured m;

	measure_sine(1000.0, 0.0, s, 1, &m);
	assert_within(m.integrated_lufs, -23.0 + 20.0 * log10(32767.0), 0.1, 0.1);
	print_message("# measured %.2f LUFS\n", m.integrated_lufs);
}

/* ---- Tech 3341: true peak, +0.2 / -0.4 dB ---------------------------- */

static void check_true_peak(double hz, double amplitude, double phase_deg, double want_dbtp)
{
	struct sig_section s[] = { { 20.0 * log10(amplitude), 1.0 } };
	struct measured m;

	measure_sine(hz, phase_deg, s, 1, &m);
	assert_within(m.true_peak_dbtp, want_dbtp, 0.4, 0.2);
	/* never below the sample peak */
	assert_true(m.true_peak_dbtp >= m.sample_peak_dbfs);
}

static void test_3341_case15_fs4_0deg(void **state)
{
	check_true_peak(RATE / 4.0, 0.5, 0.0, -6.0);
}

static void test_3341_case16_fs4_45deg(void **state)
{
	check_true_peak(RATE / 4.0, 0.5, 45.0, -6.0);
}

static void test_3341_case17_fs6_60deg(void **state)
{
	check_true_peak(RATE / 6.0, 0.5, 60.0, -6.0);
}

static void test_3341_case18_fs8_67deg(void **state)
{
	check_true_peak(RATE / 8.0, 0.5, 67.5, -6.0);
}

static void test_3341_case19_fs4_over_full_scale(void **state)
{
	struct sig_section s[] = { { 20.0 * log10(1.41), 1.0 } };
	struct measured m;

	check_true_peak(RATE / 4.0, 1.41, 45.0, 3.0);
	/* the point of the case: samples stay under full scale */
	measure_sine(RATE / 4.0, 45.0, s, 1, &m);
	assert_true(m.sample_peak_dbfs < 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_3341_case1_minus23),
		cmocka_unit_test(test_3341_case2_minus33),
		cmocka_unit_test(test_3341_case3_relative_gate),
		cmocka_unit_test(test_3341_case4_absolute_gate),
		cmocka_unit_test(test_3341_case5_gating_boundary),
		cmocka_unit_test(test_3342_case1_lra10),
		cmocka_unit_test(test_3342_case2_lra5),
		cmocka_unit_test(test_3342_case3_lra20),
		cmocka_unit_test(test_3342_case4_lra15),
		cmocka_unit_test(test_integrated_not_capped),
		cmocka_unit_test(test_3341_case15_fs4_0deg),
		cmocka_unit_test(test_3341_case16_fs4_45deg),
		cmocka_unit_test(test_3341_case17_fs6_60deg),
		cmocka_unit_test(test_3341_case18_fs8_67deg),
		cmocka_unit_test(test_3341_case19_fs4_over_full_scale),
	};
	return cmocka_run_group_tests_name("analyzer_ebu", tests, NULL, NULL);
}
