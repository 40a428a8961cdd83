// SPDX-License-Identifier: MIT
/*
 * The balloon service, host side (protocol/PROTOCOL.md 6.5). pva-hostctl
 * sets a target; the guest's pva_balloon gives memory up and names the
 * guest-physical ranges; we punch those out of the file that backs the
 * guest's RAM, so the host really gets the memory back. We keep a bitmap
 * of the 4 KiB frames the balloon owns, refuse ranges outside RAM or
 * deflates of frames the balloon does not own, and keep the guest's
 * memory statistics.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "device.h"
#include "guest_ram.h"
#include "log.h"

#define STATS_TIMEOUT_MS	3000
#define FRAME			PVA_BALLOON_UNIT

struct balloon {
	const struct host_config *cfg;
	struct guest_ram *ram;		/* NULL: no memory can be returned */
	bool ram_failed;		/* opening it failed: say it once */
	uint8_t *owned;			/* bit per frame of the RAM file */
	uint64_t nframes;

	/* what the host wants */
	uint64_t target;
	bool target_set;		/* by pva-hostctl; else the guest's */
	uint32_t config_gen;
	uint32_t stats_interval_ms;
	bool config_dirty;		/* CONFIG to send */

	/* what the guest says */
	bool hello;
	uint64_t features;
	uint32_t page_size;
	uint64_t actual, oom_deflated;
	uint32_t flags, status_gen;

	/* counters */
	uint64_t inflated, deflated, reported, discarded;
	uint64_t refused, duplicates, discard_errors;

	struct pva_balloon_stats stats;
	struct timespec stats_at;
	uint64_t stats_count;

	/* pva-hostctl balloon stats waiting for a fresh answer */
	struct ctl_client *stats_client;
	struct timespec stats_asked;
	bool stats_sent;
	uint32_t next_req_id;
	struct log_ratelimit rl;
};

static double ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* Open the RAM file on first use: QEMU creates it after we start. */
static void balloon_open_ram(struct balloon *b)
{
	if (b->ram || b->ram_failed || !b->cfg->guest_ram)
		return;
	b->ram = guest_ram_open(b->cfg->guest_ram, b->cfg->ram_layout);
	if (!b->ram) {
		b->ram_failed = true;
		return;
	}
	b->nframes = guest_ram_size(b->ram) / FRAME;
	b->owned = calloc((b->nframes + 7) / 8, 1);
	if (!b->owned) {
		guest_ram_close(b->ram);
		b->ram = NULL;
		b->ram_failed = true;
		return;
	}
	log_info("balloon: guest RAM %s, %" PRIu64 " MiB, layout %s",
		 b->cfg->guest_ram, guest_ram_size(b->ram) >> 20,
		 b->cfg->ram_layout);
}

static bool test_and_set(uint8_t *map, uint64_t i, bool set)
{
	bool was = map[i / 8] & (1u << (i % 8));

	if (set)
		map[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		map[i / 8] &= (uint8_t)~(1u << (i % 8));
	return was;
}

/*
 * One range from the guest. Returns the bytes accepted; what is refused
 * is counted in b->refused (outside RAM, misaligned, or for a deflate not
 * owned by the balloon).
 */
static uint64_t balloon_range(struct balloon *b, uint16_t type,
			      const struct pva_balloon_range *r,
			      uint64_t *refused)
{
	uint64_t gpa = pva_le64(r->gpa), len = pva_le64(r->len), off, ok = 0;
	int err;

	if (!len || (gpa | len) % FRAME || gpa + len < gpa) {
		*refused += len;
		return 0;
	}
	if (!b->ram)
		return len;	/* accounting only */
	if (guest_ram_offset(b->ram, gpa, len, &off) < 0) {
		*refused += len;
		return 0;
	}
	for (uint64_t f = off / FRAME; f < (off + len) / FRAME; f++) {
		bool owned = b->owned[f / 8] & (1u << (f % 8));

		switch (type) {
		case PVA_BALLOON_INFLATE:
			if (test_and_set(b->owned, f, true))
				b->duplicates += FRAME;
			ok += FRAME;
			break;
		case PVA_BALLOON_DEFLATE:
			if (owned) {
				test_and_set(b->owned, f, false);
				ok += FRAME;
			} else {
				*refused += FRAME;
			}
			break;
		default:	/* REPORT: the balloon's are already gone */
			ok += FRAME;
			break;
		}
	}
	if (type != PVA_BALLOON_DEFLATE) {
		err = guest_ram_discard(b->ram, off, len);
		if (err) {
			b->discard_errors++;
			if (log_ratelimit_ok(&b->rl))
				log_warn("balloon: cannot free guest memory at 0x%" PRIx64 ": %s",
					 gpa, strerror(-err));
		} else {
			b->discarded += len;
		}
	}
	return ok;
}

static int balloon_ranges(struct service *svc, const struct pva_msg_hdr *hdr,
			  const uint8_t *payload, uint32_t len)
{
	struct balloon *b = svc->priv;
	uint16_t type = pva_le16(hdr->type);
	struct pva_balloon_result res = { 0 };
	uint64_t accepted = 0, refused = 0;
	uint32_t n = len / sizeof(struct pva_balloon_range);

	bool req = pva_le16(hdr->flags) & PVA_MSG_F_REQUEST;

	if (req && !service_can_send(svc, sizeof(res)))
		return SERVICE_RETRY;
	if (len % sizeof(struct pva_balloon_range) ||
	    n > PVA_BALLOON_MAX_RANGES) {
		svc->stats.bad_msgs++;
		if (req)
			service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
		return 0;
	}
	balloon_open_ram(b);
	for (uint32_t i = 0; i < n; i++) {
		struct pva_balloon_range r;

		memcpy(&r, payload + i * sizeof(r), sizeof(r));
		accepted += balloon_range(b, type, &r, &refused);
	}
	if (type == PVA_BALLOON_INFLATE)
		b->inflated += accepted;
	else if (type == PVA_BALLOON_DEFLATE)
		b->deflated += accepted;
	else
		b->reported += accepted;
	b->refused += refused;
	if (refused && log_ratelimit_ok(&b->rl))
		log_warn("balloon: refused %" PRIu64 " bytes of ranges (type %u) from the guest",
			 refused, type);
	res.accepted = pva_cpu64(accepted);
	res.refused = pva_cpu64(refused);
	if (req)
		service_reply(svc, hdr, PVA_S_OK, &res, sizeof(res));
	return 0;
}

static struct pva_balloon_config balloon_config(const struct balloon *b)
{
	return (struct pva_balloon_config){
		.target = pva_cpu64(b->target),
		.stats_interval_ms = pva_cpu32(b->stats_interval_ms),
		.generation = pva_cpu32(b->config_gen),
	};
}

static int balloon_hello(struct service *svc, const struct pva_msg_hdr *hdr,
			 const uint8_t *payload, uint32_t len)
{
	struct balloon *b = svc->priv;
	struct pva_balloon_hello h = { 0 };
	struct pva_balloon_config cfg;
	uint32_t ps;

	if (!service_can_send(svc, sizeof(cfg)))
		return SERVICE_RETRY;
	if (len == sizeof(h))
		memcpy(&h, payload, sizeof(h));
	ps = pva_le32(h.page_size);
	if (len != sizeof(h) || ps < FRAME || ps > (1u << 16) || (ps & (ps - 1)) ||
	    pva_le64(h.actual) % FRAME) {
		svc->stats.bad_msgs++;
		service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
		return 0;
	}
	balloon_open_ram(b);
	/* The guest resends every ballooned range after this. */
	if (b->owned)
		memset(b->owned, 0, (b->nframes + 7) / 8);
	b->hello = true;
	b->features = pva_le64(h.features) & svc->ops->features;
	b->page_size = ps;
	b->actual = pva_le64(h.actual);
	if (!b->target_set) {
		/* a restarted host: keep the balloon as the guest has it */
		b->target = b->actual;
		b->config_gen++;
	}
	b->config_dirty = false;
	cfg = balloon_config(b);
	service_reply(svc, hdr, PVA_S_OK, &cfg, sizeof(cfg));
	log_info("balloon: guest driver up, %" PRIu64 " MiB in the balloon, target %" PRIu64 " MiB, features 0x%" PRIx64,
		 b->actual >> 20, b->target >> 20, b->features);
	return 0;
}

static void balloon_stats_arrived(struct balloon *b, const uint8_t *payload)
{
	memcpy(&b->stats, payload, sizeof(b->stats));
	clock_gettime(CLOCK_MONOTONIC, &b->stats_at);
	b->stats_count++;
}

static struct json_object *stats_json(const struct balloon *b);

static void balloon_stats_reply(struct balloon *b, const char *error)
{
	struct ctl_client *c = b->stats_client;

	b->stats_client = NULL;
	b->stats_sent = false;
	ctl_set_cancel(c, NULL, NULL);
	if (error) {
		ctl_reply_error(c, "balloon stats: %s", error);
		return;
	}
	ctl_reply(c, stats_json(b));
}

static int balloon_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		      const uint8_t *payload, uint32_t len)
{
	struct balloon *b = svc->priv;
	uint16_t type = pva_le16(hdr->type);
	uint16_t flags = pva_le16(hdr->flags);
	bool req = flags & PVA_MSG_F_REQUEST;

	if (flags & PVA_MSG_F_RESPONSE) {
		if (type == PVA_BALLOON_STATS && b->stats_client &&
		    pva_le32(hdr->req_id) == b->next_req_id &&
		    len == sizeof(b->stats) && !hdr->status) {
			balloon_stats_arrived(b, payload);
			balloon_stats_reply(b, NULL);
		} else {
			svc->stats.bad_msgs++;
		}
		return 0;
	}
	switch (type) {
	case PVA_BALLOON_HELLO:
		if (req)
			return balloon_hello(svc, hdr, payload, len);
		break;
	case PVA_BALLOON_DEFLATE:	/* a request or an event */
		return balloon_ranges(svc, hdr, payload, len);
	case PVA_BALLOON_INFLATE:
	case PVA_BALLOON_REPORT:
		if (req)
			return balloon_ranges(svc, hdr, payload, len);
		break;
	case PVA_BALLOON_STATUS:
		if (req || len != sizeof(struct pva_balloon_status))
			break;
		{
			struct pva_balloon_status st;

			memcpy(&st, payload, sizeof(st));
			b->actual = pva_le64(st.actual);
			b->oom_deflated = pva_le64(st.oom_deflated);
			b->flags = pva_le32(st.flags);
			b->status_gen = pva_le32(st.config_generation);
		}
		return 0;
	case PVA_BALLOON_STATS:
		if (req || len != sizeof(b->stats))
			break;
		balloon_stats_arrived(b, payload);
		return 0;
	default:
		if (!req)
			return 0;	/* unknown events are dropped */
		if (!service_can_send(svc, 0))
			return SERVICE_RETRY;
		service_reply(svc, hdr, PVA_S_ENOTSUP, NULL, 0);
		return 0;
	}
	svc->stats.bad_msgs++;
	if (log_ratelimit_ok(&b->rl))
		log_warn("balloon: malformed message type %u (%u bytes) from the guest",
			 type, len);
	if (req) {
		if (!service_can_send(svc, 0))
			return SERVICE_RETRY;
		service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
	}
	return 0;
}

static void balloon_pump(struct service *svc)
{
	struct balloon *b = svc->priv;

	if (!b->hello)
		return;
	if (b->config_dirty) {
		struct pva_balloon_config cfg = balloon_config(b);

		if (service_send(svc, PVA_BALLOON_CONFIG, 0, 0, 0, &cfg,
				 sizeof(cfg)) == 0)
			b->config_dirty = false;
	}
	if (b->stats_client && !b->stats_sent &&
	    service_send(svc, PVA_BALLOON_STATS, PVA_MSG_F_REQUEST,
			 ++b->next_req_id, 0, NULL, 0) == 0)
		b->stats_sent = true;
}

static void balloon_reset(struct service *svc)
{
	struct balloon *b = svc->priv;

	/* the guest says hello again and resends its ranges */
	b->hello = false;
	b->config_dirty = false;
	if (b->stats_client)
		balloon_stats_reply(b, "the device was reset");
}

static void balloon_tick(struct service *svc)
{
	struct balloon *b = svc->priv;

	if (b->stats_client && ms_since(&b->stats_asked) > STATS_TIMEOUT_MS)
		balloon_stats_reply(b, "the guest did not answer");
}

/* ---- status ---- */

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static struct json_object *stats_json(const struct balloon *b)
{
	static const char *const names[PVA_BSTAT_NR] = {
		"total", "free", "available", "cached", "swap_in", "swap_out",
		"major_faults", "minor_faults", "oom_kills", "hugetlb_allocs",
		"hugetlb_failures",
	};
	struct json_object *o = json_object_new_object();
	uint64_t valid = pva_le64(b->stats.valid);

	add_u64(o, "updates", b->stats_count);
	if (!b->stats_count)
		return o;
	json_object_object_add(o, "age_ms",
			       json_object_new_double(ms_since(&b->stats_at)));
	for (int i = 0; i < PVA_BSTAT_NR; i++)
		if (valid & (1ull << i))
			add_u64(o, names[i], pva_le64(b->stats.v[i]));
	return o;
}

static void balloon_status(struct service *svc, struct json_object *obj)
{
	struct balloon *b = svc->priv;
	struct json_object *o = json_object_new_object();
	struct json_object *h = json_object_new_object();

	add_u64(o, "target", b->target);
	json_object_object_add(o, "target_set_by_host",
			       json_object_new_boolean(b->target_set));
	json_object_object_add(o, "guest_driver", json_object_new_boolean(b->hello));
	add_u64(o, "actual", b->actual);
	json_object_object_add(o, "stalled", json_object_new_boolean(
		b->flags & PVA_BALLOON_S_STALLED));
	json_object_object_add(o, "oom_limited", json_object_new_boolean(
		b->flags & PVA_BALLOON_S_OOM));
	add_u64(o, "oom_deflated", b->oom_deflated);
	add_u64(o, "guest_features", b->features);
	add_u64(o, "stats_interval_ms", b->stats_interval_ms);
	json_object_object_add(o, "ram_file", json_object_new_string(
		b->ram ? guest_ram_path(b->ram) : ""));
	add_u64(h, "ram_size", b->ram ? guest_ram_size(b->ram) : 0);
	add_u64(h, "ram_allocated", b->ram ? guest_ram_allocated(b->ram) : 0);
	add_u64(h, "discarded", b->discarded);
	add_u64(h, "inflated", b->inflated);
	add_u64(h, "deflated", b->deflated);
	add_u64(h, "reported", b->reported);
	add_u64(h, "refused", b->refused);
	add_u64(h, "duplicates", b->duplicates);
	add_u64(h, "discard_errors", b->discard_errors);
	json_object_object_add(o, "host", h);
	json_object_object_add(o, "stats", stats_json(b));
	json_object_object_add(obj, "balloon", o);
}

/* ---- pva-hostctl ---- */

static int cmd_set(struct service *svc, struct ctl_client *client,
		   struct json_object *req)
{
	struct balloon *b = svc->priv;
	struct json_object *v;
	uint64_t size, limit = 0;
	int64_t x;

	if (!json_object_object_get_ex(req, "size", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (x = json_object_get_int64(v)) < 0) {
		ctl_reply_error(client, "balloon: size must be a number of bytes >= 0");
		return -1;
	}
	size = (uint64_t)x;
	balloon_open_ram(b);
	if (b->ram)
		limit = guest_ram_size(b->ram);
	else if (pva_le64(b->stats.valid) & (1ull << PVA_BSTAT_TOTAL))
		limit = pva_le64(b->stats.v[PVA_BSTAT_TOTAL]) + b->actual;
	if (limit && size > limit) {
		ctl_reply_error(client, "balloon: %" PRIu64 " MiB is more than the guest's RAM (%" PRIu64 " MiB)",
				size >> 20, limit >> 20);
		return -1;
	}
	b->target = size / FRAME * FRAME;
	b->target_set = true;
	b->config_gen++;
	b->config_dirty = true;
	balloon_pump(svc);
	v = json_object_new_object();
	add_u64(v, "target", b->target);
	json_object_object_add(v, "guest_driver", json_object_new_boolean(b->hello));
	ctl_reply(client, v);
	return 0;
}

static int cmd_status(struct service *svc, struct ctl_client *client,
		      struct json_object *req)
{
	struct json_object *o = json_object_new_object(), *inner;

	(void)req;
	balloon_status(svc, o);
	json_object_object_get_ex(o, "balloon", &inner);
	json_object_get(inner);
	json_object_put(o);
	ctl_reply(client, inner);
	return 0;
}

static void stats_cancel(struct ctl_client *client, void *data)
{
	struct balloon *b = data;

	(void)client;
	b->stats_client = NULL;
	b->stats_sent = false;
}

static int cmd_stats(struct service *svc, struct ctl_client *client,
		     struct json_object *req)
{
	struct balloon *b = svc->priv;
	struct json_object *v;

	if (json_object_object_get_ex(req, "interval_ms", &v)) {
		int64_t ms = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || ms < 0 ||
		    ms > 3600000 || (ms && ms < 100)) {
			ctl_reply_error(client, "balloon: the interval must be 0 (off) or 0.1-3600 s");
			return -1;
		}
		b->stats_interval_ms = (uint32_t)ms;
		b->config_dirty = true;
	}
	if (!b->hello || !(b->features & PVA_BALLOON_F_STATS)) {
		balloon_pump(svc);
		if (b->stats_count) {
			ctl_reply(client, stats_json(b));	/* the last ones */
			return 0;
		}
		ctl_reply_error(client, "balloon: no guest driver sends statistics");
		return -1;
	}
	if (b->stats_client) {
		ctl_reply_error(client, "balloon: another stats request is waiting");
		return -1;
	}
	b->stats_client = client;
	b->stats_sent = false;
	clock_gettime(CLOCK_MONOTONIC, &b->stats_asked);
	ctl_set_cancel(client, stats_cancel, b);
	balloon_pump(svc);
	return 0;
}

static const struct ctl_command balloon_commands[] = {
	{ "balloon-set", cmd_set },
	{ "balloon-status", cmd_status },
	{ "balloon-stats", cmd_stats },
	{ NULL, NULL },
};

static int balloon_init(struct service *svc)
{
	struct balloon *b = calloc(1, sizeof(*b));

	if (!b)
		return -1;
	b->cfg = svc->cfg;
	b->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	svc->priv = b;
	return 0;
}

static void balloon_destroy(struct service *svc)
{
	struct balloon *b = svc->priv;

	if (b->stats_client)
		balloon_stats_reply(b, "pva-host is stopping");
	guest_ram_close(b->ram);
	free(b->owned);
	free(b);
}

const struct service_ops balloon_service_ops = {
	.name = "balloon",
	.type = PVA_SVC_BALLOON,
	.version = 1,
	.features = PVA_BALLOON_F_KNOWN,
	.g2h_size = 64 << 10,
	.h2g_size = 16 << 10,
	.init = balloon_init,
	.destroy = balloon_destroy,
	.reset = balloon_reset,
	.rx = balloon_rx,
	.pump = balloon_pump,
	.tick = balloon_tick,
	.status = balloon_status,
	.commands = balloon_commands,
};
