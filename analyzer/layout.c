/* analyzer/layout.c — see layout.h. */
#include "analyzer/layout.h"

#include <sndfile.h>
#include <string.h>

const char *an_chan_role_name(uint8_t role)
{
	static const char *const names[] = {
		[AN_CH_FL] = "FL", [AN_CH_FR] = "FR", [AN_CH_FC] = "FC", [AN_CH_LFE] = "LFE",
		[AN_CH_BL] = "BL", [AN_CH_BR] = "BR", [AN_CH_SL] = "SL", [AN_CH_SR] = "SR",
		[AN_CH_OTHER] = "other",
	};

	return role < sizeof(names) / sizeof(names[0]) ? names[role] : NULL;
}

bool an_layout_fixed_order(enum an_fixed_order which, unsigned channels, uint8_t *roles)
{
	/* [which][channels - 3]: Vorbis I spec 4.3.9; FLAC's channel
	 * assignment, which is WAVE's default order */
	static const uint8_t order[2][6][8] = {
		[AN_ORDER_VORBIS] = {
			{ AN_CH_FL, AN_CH_FC, AN_CH_FR },
			{ AN_CH_FL, AN_CH_FR, AN_CH_BL, AN_CH_BR },
			{ AN_CH_FL, AN_CH_FC, AN_CH_FR, AN_CH_BL, AN_CH_BR },
			{ AN_CH_FL, AN_CH_FC, AN_CH_FR, AN_CH_BL, AN_CH_BR, AN_CH_LFE },
			{ AN_CH_FL, AN_CH_FC, AN_CH_FR, AN_CH_SL, AN_CH_SR, AN_CH_OTHER, AN_CH_LFE },
			{ AN_CH_FL, AN_CH_FC, AN_CH_FR, AN_CH_SL, AN_CH_SR, AN_CH_BL, AN_CH_BR, AN_CH_LFE },
		},
		[AN_ORDER_WAVE] = {
			{ AN_CH_FL, AN_CH_FR, AN_CH_FC },
			{ AN_CH_FL, AN_CH_FR, AN_CH_BL, AN_CH_BR },
			{ AN_CH_FL, AN_CH_FR, AN_CH_FC, AN_CH_BL, AN_CH_BR },
			{ AN_CH_FL, AN_CH_FR, AN_CH_FC, AN_CH_LFE, AN_CH_BL, AN_CH_BR },
			{ AN_CH_FL, AN_CH_FR, AN_CH_FC, AN_CH_LFE, AN_CH_OTHER, AN_CH_SL, AN_CH_SR },
			{ AN_CH_FL, AN_CH_FR, AN_CH_FC, AN_CH_LFE, AN_CH_BL, AN_CH_BR, AN_CH_SL, AN_CH_SR },
		},
	};

	if (channels < 3 || channels > 8)
		return false;
	memcpy(roles, order[which][channels - 3], channels);
	return true;
}

bool an_layout_from_sf_map(const int *map, unsigned channels, uint8_t *roles)
{
	bool known = false;

	for (unsigned c = 0; c < channels && c < AN_LAYOUT_MAX; c++) {
		uint8_t r;
		switch (map[c]) {
		case SF_CHANNEL_MAP_INVALID: r = AN_CH_UNKNOWN; break;
		case SF_CHANNEL_MAP_LEFT:
		case SF_CHANNEL_MAP_FRONT_LEFT: r = AN_CH_FL; break;
		case SF_CHANNEL_MAP_RIGHT:
		case SF_CHANNEL_MAP_FRONT_RIGHT: r = AN_CH_FR; break;
		case SF_CHANNEL_MAP_MONO:
		case SF_CHANNEL_MAP_CENTER:
		case SF_CHANNEL_MAP_FRONT_CENTER: r = AN_CH_FC; break;
		case SF_CHANNEL_MAP_LFE: r = AN_CH_LFE; break;
		case SF_CHANNEL_MAP_REAR_LEFT: r = AN_CH_BL; break;
		case SF_CHANNEL_MAP_REAR_RIGHT: r = AN_CH_BR; break;
		case SF_CHANNEL_MAP_SIDE_LEFT: r = AN_CH_SL; break;
		case SF_CHANNEL_MAP_SIDE_RIGHT: r = AN_CH_SR; break;
		default: r = AN_CH_OTHER; break;
		}
		roles[c] = r;
		known |= r != AN_CH_UNKNOWN;
	}
	return known;
}
