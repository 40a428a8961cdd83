// SPDX-License-Identifier: MIT
/*
 * The control service (PROTOCOL.md 6.1): pings both ways and the guest's
 * information. `pva-hostctl ping` runs here: the host sends CTRL_PING
 * requests that the guest driver answers, and checks every answer.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "device.h"
#include "log.h"

#define PING_MAX_COUNT		10000000u
#define PING_MAX_WINDOW		256u

struct ping_job {
	struct ctl_client *client;
	uint64_t count, sent, received;
	uint32_t size, window, timeout_ms;
	uint32_t next_id;		/* id of the next request */
	uint32_t expect_id;		/* id of the next expected answer */
	uint64_t bad, reordered;
	struct timespec *sent_at;	/* by id % window */
	double *rtt_us;			/* one per answer */
	struct timespec last_progress, started;
	uint8_t *buf;
};

struct control {
	struct ping_job *job;
	bool have_info;
	struct pva_guest_info info;
	uint64_t pings_answered;	/* guest-initiated */
	struct log_ratelimit rl;
};

static double ts_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static void ping_fill(uint8_t *buf, uint32_t id, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(id * 7 + i);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void job_free(struct ping_job *job)
{
	free(job->sent_at);
	free(job->rtt_us);
	free(job->buf);
	free(job);
}

static void job_finish(struct control *ctl, const char *error)
{
	struct ping_job *job = ctl->job;
	struct json_object *o = json_object_new_object();
	struct timespec now;
	uint64_t n = job->received;

	ctl->job = NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_object_add(o, "sent", json_object_new_int64((int64_t)job->sent));
	json_object_object_add(o, "received",
			       json_object_new_int64((int64_t)job->received));
	json_object_object_add(o, "lost", json_object_new_int64(
		(int64_t)(job->sent - job->received)));
	json_object_object_add(o, "bad", json_object_new_int64((int64_t)job->bad));
	json_object_object_add(o, "reordered",
			       json_object_new_int64((int64_t)job->reordered));
	json_object_object_add(o, "size", json_object_new_int64(job->size));
	json_object_object_add(o, "window", json_object_new_int64(job->window));
	json_object_object_add(o, "elapsed_s", json_object_new_double(
		ts_us(&job->started, &now) / 1e6));
	if (n) {
		double sum = 0;

		qsort(job->rtt_us, n, sizeof(double), cmp_double);
		for (uint64_t i = 0; i < n; i++)
			sum += job->rtt_us[i];
		json_object_object_add(o, "rtt_min_us",
				       json_object_new_double(job->rtt_us[0]));
		json_object_object_add(o, "rtt_median_us",
				       json_object_new_double(job->rtt_us[n / 2]));
		json_object_object_add(o, "rtt_avg_us",
				       json_object_new_double(sum / (double)n));
		json_object_object_add(o, "rtt_p99_us", json_object_new_double(
			job->rtt_us[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]));
		json_object_object_add(o, "rtt_max_us",
				       json_object_new_double(job->rtt_us[n - 1]));
	}
	if (!error && (job->bad || job->reordered))
		error = "answers were corrupt or out of order";
	if (error) {
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(error));
	}
	ctl_set_cancel(job->client, NULL, NULL);
	ctl_reply(job->client, o);
	job_free(job);
}

static void ping_pump(struct service *svc)
{
	struct control *ctl = svc->priv;
	struct ping_job *job = ctl->job;

	if (!job)
		return;
	while (job->sent < job->count &&
	       job->sent - job->received < job->window) {
		uint32_t id = job->next_id;
		int ret;

		ping_fill(job->buf, id, job->size);
		clock_gettime(CLOCK_MONOTONIC, &job->sent_at[id % job->window]);
		ret = service_send(svc, PVA_CTRL_PING, PVA_MSG_F_REQUEST, id, 0,
				   job->buf, job->size);
		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			job_finish(ctl, "the guest went away");
			return;
		}
		job->sent++;
		job->next_id = id + 1 ? id + 1 : 1;
	}
}

static void ping_answer(struct service *svc, const struct pva_msg_hdr *hdr,
			const uint8_t *payload, uint32_t len)
{
	struct control *ctl = svc->priv;
	struct ping_job *job = ctl->job;
	uint32_t id = pva_le32(hdr->req_id);
	struct timespec now;

	if (!job || job->received == job->sent) {
		svc->stats.bad_msgs++;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (id != job->expect_id)
		job->reordered++;
	ping_fill(job->buf, id, job->size);
	if (pva_le32(hdr->status) != PVA_S_OK || len != job->size ||
	    memcmp(payload, job->buf, len))
		job->bad++;
	job->rtt_us[job->received++] = ts_us(&job->sent_at[id % job->window],
					     &now);
	job->expect_id = id + 1 ? id + 1 : 1;
	job->last_progress = now;
	if (job->received == job->count)
		job_finish(ctl, NULL);
	else
		ping_pump(svc);
}

static void ping_cancel(struct ctl_client *client, void *data)
{
	struct control *ctl = data;

	(void)client;
	if (ctl->job) {
		job_free(ctl->job);
		ctl->job = NULL;
	}
}

static int get_uint(struct json_object *req, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(req, key, &v)) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return -1;
	x = json_object_get_int64(v);
	if (x < (int64_t)min || (uint64_t)x > max)
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int cmd_ping(struct service *svc, struct ctl_client *client,
		    struct json_object *req)
{
	struct control *ctl = svc->priv;
	uint64_t count, size, window, timeout;
	struct ping_job *job;

	if (get_uint(req, "count", 1, 1, PING_MAX_COUNT, &count) ||
	    get_uint(req, "size", 64, 0, svc->tx.max_payload, &size) ||
	    get_uint(req, "window", 1, 1, PING_MAX_WINDOW, &window) ||
	    get_uint(req, "timeout_ms", 5000, 10, 3600000, &timeout)) {
		ctl_reply_error(client, "ping: count must be 1-%u, size 0-%u, window 1-%u, timeout_ms 10-3600000",
				PING_MAX_COUNT, svc->tx.max_payload,
				PING_MAX_WINDOW);
		return -1;
	}
	if (!device_negotiated(svc->dev)) {
		ctl_reply_error(client, "ping: no guest driver is connected");
		return -1;
	}
	if (ctl->job) {
		ctl_reply_error(client, "ping: another ping is running");
		return -1;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		goto nomem;
	job->client = client;
	job->count = count;
	job->size = (uint32_t)size;
	job->window = (uint32_t)window;
	job->timeout_ms = (uint32_t)timeout;
	job->next_id = job->expect_id = 1;
	job->sent_at = calloc(window, sizeof(*job->sent_at));
	job->rtt_us = calloc(count, sizeof(*job->rtt_us));
	job->buf = malloc(size ? size : 1);
	if (!job->sent_at || !job->rtt_us || !job->buf) {
		job_free(job);
		goto nomem;
	}
	clock_gettime(CLOCK_MONOTONIC, &job->started);
	job->last_progress = job->started;
	ctl->job = job;
	ctl_set_cancel(client, ping_cancel, ctl);
	ping_pump(svc);
	return 0;
nomem:
	ctl_reply_error(client, "ping: out of memory");
	return -1;
}

static const struct ctl_command control_commands[] = {
	{ "ping", cmd_ping },
	{ NULL, NULL },
};

/* Strings from the guest must be NUL-terminated inside their field. */
static bool terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

static int control_rx(struct service *svc, const struct pva_msg_hdr *hdr,
		      const uint8_t *payload, uint32_t len)
{
	struct control *ctl = svc->priv;
	uint16_t type = pva_le16(hdr->type);
	uint16_t flags = pva_le16(hdr->flags);

	if (flags & PVA_MSG_F_RESPONSE) {
		if (type == PVA_CTRL_PING)
			ping_answer(svc, hdr, payload, len);
		else
			svc->stats.bad_msgs++;
		return 0;
	}
	switch (type) {
	case PVA_CTRL_PING:
		if (!(flags & PVA_MSG_F_REQUEST))
			break;
		if (!service_can_send(svc, len))
			return SERVICE_RETRY;
		service_reply(svc, hdr, PVA_S_OK, payload, len);
		ctl->pings_answered++;
		return 0;
	case PVA_CTRL_GUEST_INFO: {
		struct pva_guest_info info;

		if (len != sizeof(info))
			break;
		memcpy(&info, payload, sizeof(info));
		if (!terminated(info.kernel, sizeof(info.kernel)) ||
		    !terminated(info.arch, sizeof(info.arch)) ||
		    !terminated(info.driver, sizeof(info.driver)))
			break;
		if (!ctl->have_info || memcmp(&info, &ctl->info, sizeof(info)))
			log_info("guest: Linux %s %s, driver %s, %u CPUs",
				 info.kernel, info.arch, info.driver,
				 pva_le32(info.nr_cpus));
		ctl->info = info;
		ctl->have_info = true;
		if (flags & PVA_MSG_F_REQUEST)
			goto answer_ok;
		return 0;
	}
	default:
		if (flags & PVA_MSG_F_REQUEST) {
			if (!service_can_send(svc, 0))
				return SERVICE_RETRY;
			service_reply(svc, hdr, PVA_S_ENOTSUP, NULL, 0);
		}
		return 0;
	}
	/* malformed */
	svc->stats.bad_msgs++;
	if (log_ratelimit_ok(&ctl->rl))
		log_warn("control: malformed message type %u (%u bytes) from the guest",
			 type, len);
	if (flags & PVA_MSG_F_REQUEST) {
		if (!service_can_send(svc, 0))
			return SERVICE_RETRY;
		service_reply(svc, hdr, PVA_S_EINVAL, NULL, 0);
	}
	return 0;
answer_ok:
	if (!service_can_send(svc, 0))
		return SERVICE_RETRY;
	service_reply(svc, hdr, PVA_S_OK, NULL, 0);
	return 0;
}

static void control_reset(struct service *svc)
{
	struct control *ctl = svc->priv;

	if (ctl->job)
		job_finish(ctl, "the device was reset during the ping");
}

static void control_tick(struct service *svc)
{
	struct control *ctl = svc->priv;
	struct ping_job *job = ctl->job;
	struct timespec now;

	if (!job)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts_us(&job->last_progress, &now) > job->timeout_ms * 1e3)
		job_finish(ctl, "the guest did not answer in time");
}

static void control_status(struct service *svc, struct json_object *obj)
{
	struct control *ctl = svc->priv;
	struct json_object *g;

	json_object_object_add(obj, "guest_pings_answered",
			       json_object_new_int64((int64_t)ctl->pings_answered));
	if (!ctl->have_info)
		return;
	g = json_object_new_object();
	json_object_object_add(g, "os", json_object_new_string("Linux"));
	json_object_object_add(g, "kernel", json_object_new_string(ctl->info.kernel));
	json_object_object_add(g, "arch", json_object_new_string(ctl->info.arch));
	json_object_object_add(g, "driver", json_object_new_string(ctl->info.driver));
	json_object_object_add(g, "page_size",
			       json_object_new_int64(pva_le32(ctl->info.page_size)));
	json_object_object_add(g, "cpus",
			       json_object_new_int64(pva_le32(ctl->info.nr_cpus)));
	json_object_object_add(g, "mem_total", json_object_new_int64(
		(int64_t)pva_le64(ctl->info.mem_total)));
	json_object_object_add(obj, "guest_info", g);
}

static int control_init(struct service *svc)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return -1;
	ctl->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	svc->priv = ctl;
	return 0;
}

static void control_destroy(struct service *svc)
{
	struct control *ctl = svc->priv;

	if (ctl->job)
		job_finish(ctl, "pva-host is stopping");
	free(ctl);
}

const struct service_ops control_service_ops = {
	.name = "control",
	.type = PVA_SVC_CONTROL,
	.version = 1,
	.g2h_size = 64 << 10,
	.h2g_size = 64 << 10,
	.init = control_init,
	.destroy = control_destroy,
	.reset = control_reset,
	.rx = control_rx,
	.pump = ping_pump,
	.tick = control_tick,
	.status = control_status,
	.commands = control_commands,
};
