/* analyzer/spectral_tap.h — the spectral summary (spectral.h, with tempo
 * and key from music.h) as a tap on
 * the analysis (analysis.h), asked for with `sandrun-analyze --spectral`;
 * its finish puts the result in the report. */
#ifndef SANDRUN_ANALYZER_SPECTRAL_TAP_H
#define SANDRUN_ANALYZER_SPECTRAL_TAP_H

#include <stdbool.h>

#include "analyzer/analysis.h"
#include "analyzer/spectral.h"

struct an_spectral_tap {
	struct an_spectral sp;
	bool started;            /* init succeeded */
	struct an_tap tap;       /* hand this to the analysis */
};

/* next: the rest of the chain, or NULL. */
void an_spectral_tap_init(struct an_spectral_tap *st, const struct an_tap *next);

#endif
