/* SPDX-License-Identifier: MIT */
/* What other parts of pva-host ask of the display service (display.c). */
#ifndef PVA_HOST_DISPLAY_H
#define PVA_HOST_DISPLAY_H

#include <stdbool.h>

#include "pva_protocol.h"

struct device;

/* The layout the host asks for, if one was set (pva-hostctl, a VNC
 * viewer, or adopted from the guest after a restart).
 */
bool display_current_layout(struct device *dev,
			    struct pva_display_config *out);

#endif
