// SPDX-License-Identifier: MIT
/*
 * The host's display layout (protocol/PROTOCOL.md 6.8.4) on Windows:
 * head n is the n-th display device Windows lists (\\.\DISPLAY1 ...,
 * mirroring drivers skipped). Every head's mode and position go to the
 * registry with CDS_NORESET first and are applied together by a final
 * ChangeDisplaySettingsExW(NULL, ...), so the desktop is rearranged
 * once, not once per monitor. The first head that is on becomes the
 * primary monitor, at (0, 0) as Windows wants; the others keep the
 * host's offsets from it (left to right). DISPLAY_STATE reports what
 * Windows shows afterwards, and again (generation 0) when the user or
 * another program changed it.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct display {
	struct agent *a;
	struct pva_agent_display_state last;
	bool last_valid, applying;
};

struct dev {
	wchar_t name[32];
	bool attached;
};

static unsigned int list_heads(struct dev *devs)
{
	unsigned int n = 0;

	for (DWORD i = 0; n < PVA_DISPLAY_MAX_HEADS; i++) {
		DISPLAY_DEVICEW dd = { .cb = sizeof(dd) };

		if (!EnumDisplayDevicesW(NULL, i, &dd, 0))
			break;
		if (dd.StateFlags & DISPLAY_DEVICE_MIRRORING_DRIVER)
			continue;
		memcpy(devs[n].name, dd.DeviceName, sizeof(devs[n].name));
		devs[n].name[31] = 0;
		devs[n].attached = dd.StateFlags & DISPLAY_DEVICE_ATTACHED_TO_DESKTOP;
		n++;
	}
	return n;
}

/* What Windows shows now, positions moved so that none is negative (a
 * monitor left of the primary one has x < 0; the protocol has no sign).
 */
static void current(struct pva_agent_display_state *s)
{
	struct dev devs[PVA_DISPLAY_MAX_HEADS];
	unsigned int n = list_heads(devs);
	LONG minx = 0, miny = 0;
	POINTL pos[PVA_DISPLAY_MAX_HEADS];

	memset(s, 0, sizeof(*s));
	s->nr_heads = pva_cpu32(n);
	for (unsigned int i = 0; i < n; i++) {
		DEVMODEW dm = { .dmSize = sizeof(dm) };

		if (!devs[i].attached ||
		    !EnumDisplaySettingsExW(devs[i].name, ENUM_CURRENT_SETTINGS,
					    &dm, 0) ||
		    dm.dmPelsWidth < PVA_DISPLAY_MIN_DIM ||
		    dm.dmPelsHeight < PVA_DISPLAY_MIN_DIM ||
		    dm.dmPelsWidth > PVA_DISPLAY_MAX_DIM ||
		    dm.dmPelsHeight > PVA_DISPLAY_MAX_DIM)
			continue;
		s->heads[i].flags = pva_cpu32(PVA_DISPLAY_HEAD_ENABLED);
		s->heads[i].width = pva_cpu32(dm.dmPelsWidth);
		s->heads[i].height = pva_cpu32(dm.dmPelsHeight);
		pos[i] = dm.dmPosition;
		if (pos[i].x < minx)
			minx = pos[i].x;
		if (pos[i].y < miny)
			miny = pos[i].y;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!s->heads[i].flags)
			continue;
		s->heads[i].x = pva_cpu32((uint32_t)(pos[i].x - minx));
		s->heads[i].y = pva_cpu32((uint32_t)(pos[i].y - miny));
	}
}

static void report(struct display *d, uint32_t generation, uint32_t status)
{
	struct pva_agent_display_state s;

	current(&s);
	s.generation = pva_cpu32(generation);
	s.status = pva_cpu32(status);
	d->last = s;
	d->last_valid = true;
	if (channel_features(d->a->ch) & PVA_AGENT_F_DISPLAY)
		channel_send(d->a->ch, PVA_AGENT_DISPLAY_STATE, &s, sizeof(s));
}

static uint32_t status_of(LONG r)
{
	switch (r) {
	case DISP_CHANGE_SUCCESSFUL:
		return PVA_S_OK;
	case DISP_CHANGE_BADMODE:
		return PVA_S_ERANGE;	/* the adapter has no such mode */
	case DISP_CHANGE_RESTART:
		return PVA_S_EAGAIN;	/* only after a reboot */
	case DISP_CHANGE_BADFLAGS:
	case DISP_CHANGE_BADPARAM:
	case DISP_CHANGE_BADDUALVIEW:
		return PVA_S_EINVAL;
	default:
		return PVA_S_EIO;
	}
}

static const char *disp_error(LONG r)
{
	switch (r) {
	case DISP_CHANGE_BADMODE:
		return "the display adapter has no such mode";
	case DISP_CHANGE_RESTART:
		return "a reboot is needed";
	case DISP_CHANGE_NOTUPDATED:
		return "the registry could not be written";
	case DISP_CHANGE_BADFLAGS:
	case DISP_CHANGE_BADPARAM:
		return "bad parameters";
	case DISP_CHANGE_BADDUALVIEW:
		return "DualView";
	default:
		return "the change failed";
	}
}

/* Does Windows show what @c asked for, on the heads it has? */
static bool shows(const struct pva_display_config *c, unsigned int ndev)
{
	struct pva_agent_display_state s;

	current(&s);
	for (unsigned int i = 0; i < ndev; i++) {
		bool want = i < pva_le32(c->nr_heads) &&
			    (pva_le32(c->heads[i].flags) & PVA_DISPLAY_HEAD_ENABLED);
		bool on = pva_le32(s.heads[i].flags) & PVA_DISPLAY_HEAD_ENABLED;

		if (want != on && i)
			return false;
		if (want && (pva_le32(s.heads[i].width) != pva_le32(c->heads[i].width) ||
			     pva_le32(s.heads[i].height) != pva_le32(c->heads[i].height)))
			return false;
	}
	return true;
}

static uint32_t apply(struct display *d, const struct pva_display_config *c)
{
	struct dev devs[PVA_DISPLAY_MAX_HEADS];
	unsigned int n = list_heads(devs), nr = pva_le32(c->nr_heads);
	int primary = -1;
	uint32_t status = PVA_S_OK;
	LONG r;

	if (!n) {
		log_warn("display: Windows lists no display device");
		return PVA_S_ENOENT;
	}
	for (unsigned int i = 0; i < nr && i < n && primary < 0; i++)
		if (pva_le32(c->heads[i].flags) & PVA_DISPLAY_HEAD_ENABLED)
			primary = (int)i;
	if (primary < 0) {
		log_warn("display: the layout turns on no head this guest has (%u devices)", n);
		return PVA_S_ENOENT;
	}
	for (unsigned int i = n; i < nr; i++)
		if (pva_le32(c->heads[i].flags) & PVA_DISPLAY_HEAD_ENABLED) {
			log_info("display: the layout turns on head %u, Windows has %u display devices: it stays off",
				 i, n);
			break;
		}
	d->applying = true;
	for (unsigned int i = 0; i < n; i++) {
		const struct pva_display_head *h = &c->heads[i];
		bool on = i < nr && (pva_le32(h->flags) & PVA_DISPLAY_HEAD_ENABLED);
		DEVMODEW dm = { .dmSize = sizeof(dm) };
		DWORD flags = CDS_UPDATEREGISTRY | CDS_NORESET;

		if (!on && !devs[i].attached)
			continue;
		dm.dmFields = DM_PELSWIDTH | DM_PELSHEIGHT | DM_POSITION;
		if (on) {
			dm.dmPelsWidth = pva_le32(h->width);
			dm.dmPelsHeight = pva_le32(h->height);
			/* Windows puts the primary monitor at (0, 0) */
			dm.dmPosition.x = (LONG)pva_le32(h->x) -
					  (LONG)pva_le32(c->heads[primary].x);
			dm.dmPosition.y = (LONG)pva_le32(h->y) -
					  (LONG)pva_le32(c->heads[primary].y);
			if ((int)i == primary)
				flags |= CDS_SET_PRIMARY;
		}
		/* off: a zero size detaches the monitor from the desktop */
		r = ChangeDisplaySettingsExW(devs[i].name, &dm, NULL, flags, NULL);
		if (r != DISP_CHANGE_SUCCESSFUL) {
			log_warn("display: %s %s %lux%lu: %s", wstr(devs[i].name),
				 on ? "to" : "off,", dm.dmPelsWidth,
				 dm.dmPelsHeight, disp_error(r));
			if (status == PVA_S_OK)
				status = status_of(r);
		}
	}
	/* all of it at once */
	r = ChangeDisplaySettingsExW(NULL, NULL, NULL, 0, NULL);
	d->applying = false;
	if (r != DISP_CHANGE_SUCCESSFUL) {
		log_warn("display: applying the layout: %s", disp_error(r));
		return status_of(r);
	}
	if (status == PVA_S_OK && !shows(c, n)) {
		log_warn("display: Windows does not show the layout it accepted");
		status = PVA_S_EIO;
	}
	return status;
}

void display_rx_layout(struct display *d, const uint8_t *p, uint32_t len)
{
	struct pva_display_config c;
	const char *why;
	uint32_t status;

	if (display_config_parse(p, len, &c, &why)) {
		host_bad(d->a, "the host sent a malformed DISPLAY_LAYOUT: %s", why);
		return;
	}
	if (!d->a->opt.display)
		return;
	log_info("display: the host asks for layout %u (%u heads, head 0 %ux%u)",
		 pva_le32(c.generation), pva_le32(c.nr_heads),
		 pva_le32(c.heads[0].width), pva_le32(c.heads[0].height));
	status = apply(d, &c);
	if (status == PVA_S_OK)
		log_info("display: layout %u applied", pva_le32(c.generation));
	report(d, pva_le32(c.generation), status);
}

void display_host_up(struct display *d)
{
	/* what the session shows before the host asks for anything */
	report(d, 0, PVA_S_OK);
}

void display_changed(struct display *d)
{
	struct pva_agent_display_state s;

	if (d->applying || !channel_up(d->a->ch))
		return;
	current(&s);
	s.generation = 0;
	s.status = 0;
	if (d->last_valid &&
	    !memcmp(s.heads, d->last.heads, sizeof(s.heads)) &&
	    s.nr_heads == d->last.nr_heads)
		return;		/* our own change, reported already */
	log_info("display: the session's display changed by itself");
	report(d, 0, PVA_S_OK);
}

struct display *display_new(struct agent *a)
{
	struct display *d = calloc(1, sizeof(*d));

	if (d)
		d->a = a;
	return d;
}

void display_free(struct display *d)
{
	free(d);
}
