/* analyzer/layout.h — which loudspeaker each decoded channel feeds, as far
 * as the loudness weights care (loudness.h, enum an_chan_role), from
 * what each format says or implies:
 *   - a channel map in the header (WAVE_FORMAT_EXTENSIBLE's channel mask,
 *     CAF's channel layout), which libsndfile hands out through
 *     SFC_GET_CHANNEL_MAP_INFO;
 *   - the order a format's specification fixes for its channel count:
 *     Ogg Vorbis and Opus (mapping family 1) decode in Vorbis order,
 *     L C R for 3 channels, L C R Ls Rs LFE for 6 (Vorbis I spec 4.3.9);
 *     FLAC in WAVE order, L R C LFE Ls Rs for 6 (FLAC format, channel
 *     assignment);
 *   - the FFmpeg decoder's channel layout (analyzer/decoder/ffdec.c).
 * Otherwise nothing is known and the loudness keeps its default map.
 */
#ifndef SANDRUN_ANALYZER_LAYOUT_H
#define SANDRUN_ANALYZER_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

/* A channel's place in the loudspeaker layout, as far as BS.1770-4's
 * weights care: 1.0 for front and other channels, 1.41 for surrounds
 * (between 60 and 120 degrees off centre), 0 for the LFE. */
enum an_chan_role {
	AN_CH_UNKNOWN = 0, /* no layout known: the default map above */
	AN_CH_FL,
	AN_CH_FR,
	AN_CH_FC,
	AN_CH_LFE,
	AN_CH_BL,          /* back / surround; 1.41 unless side pairs exist too */
	AN_CH_BR,
	AN_CH_SL,          /* side surround, 1.41 */
	AN_CH_SR,
	AN_CH_OTHER,       /* any other place (centre back, top, wide): 1.0 */
};

/* Channels past this one carry no role (loudness stops at 64 anyway). */
#define AN_LAYOUT_MAX 64u

/* Short name of a role: "FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR",
 * "other", or NULL for AN_CH_UNKNOWN. */
const char *an_chan_role_name(uint8_t role);

/* The order a specification fixes for `channels` channels (3 to 8); false
 * when it fixes none, roles then untouched. */
enum an_fixed_order { AN_ORDER_VORBIS, AN_ORDER_WAVE };
bool an_layout_fixed_order(enum an_fixed_order which, unsigned channels, uint8_t *roles);

/* libsndfile's SF_CHANNEL_MAP_* codes; false when none is known. */
bool an_layout_from_sf_map(const int *map, unsigned channels, uint8_t *roles);

#endif
