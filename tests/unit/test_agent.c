// SPDX-License-Identifier: MIT
/*
 * The agent channel's host side (host/agent.c, host/clipboard.c) against a
 * fake guest and a fake pva-hostctl, rule by rule from PROTOCOL.md 6.8:
 * HELLO and what is dropped before it, INFO's checks, the host's grabs and
 * the guest's REQUESTs (chunks, ESTALE, ENOENT, E2BIG, EBUSY), the guest's
 * grabs and clipboard-get (chunks checked, a malformed transfer, an error
 * status, a timeout), crossed grabs (the guest's wins), a device reset,
 * clipboard-watch events.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_msg.h"
#include "fake_guest.h"
#include "fake_ctl.h"
#include "log.h"

#define AGT	3		/* the service's index */
#define TEXT	"text/plain;charset=utf-8"
/* what most tests negotiate: guest control sends a TIME_SYNC after HELLO */
#define FEATS	(PVA_AGENT_F_KNOWN & ~PVA_AGENT_F_CONTROL)

struct t {
	struct fake_guest g;
	struct fake_ctl fc;
	uint32_t req_id;
};

static uint8_t buf[PVA_MSG_MAX];

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	log_init("test", LOG_CRIT);
	if (!t)
		return -1;
	if (fg_init_with(&t->g, &agent_service_ops) ||
	    fc_init(&t->fc, t->g.loop, t->g.dev) || fg_negotiate(&t->g))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	fc_fini(&t->fc);
	fg_fini(&t->g);
	free(t);
	return 0;
}

/* ---- the guest's side ---- */

static void send_event(struct t *t, uint16_t type, const void *p, uint32_t len)
{
	assert_int_equal(fg_send(&t->g, AGT, type, 0, 0, p, len), 0);
}

/* The next message from the host, or -1 if there is none. */
static int next_msg(struct t *t, struct pva_msg_hdr *h)
{
	int n = fg_recv(&t->g, AGT, h, buf, sizeof(buf));

	assert_true(n >= -1);	/* never a corrupt ring */
	return n;
}

static void expect_none(struct t *t)
{
	struct pva_msg_hdr h;

	assert_int_equal(next_msg(t, &h), -1);
}

static struct pva_agent_hello hello(struct t *t, uint64_t features,
				    uint64_t clip_max)
{
	struct pva_agent_hello h = {
		.version = pva_cpu32(1), .features = pva_cpu64(features),
		.clip_max = pva_cpu64(clip_max),
	}, ans;
	struct pva_msg_hdr m;

	assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_HELLO, PVA_MSG_F_REQUEST,
				 ++t->req_id, &h, sizeof(h)), 0);
	assert_int_equal(next_msg(t, &m), sizeof(ans));
	assert_int_equal(pva_le16(m.flags), PVA_MSG_F_RESPONSE);
	assert_int_equal(pva_le32(m.req_id), t->req_id);
	assert_int_equal(pva_le32(m.status), PVA_S_OK);
	memcpy(&ans, buf, sizeof(ans));
	return ans;
}

static void guest_grab(struct t *t, uint32_t serial, uint32_t seen,
		       const char *type)
{
	struct clip_types types = { 0 };
	uint8_t p[512];
	uint32_t len;

	if (type)
		clip_types_add(&types, type);
	len = clip_grab_build(p, sizeof(p), 0, serial, seen, &types);
	send_event(t, PVA_AGENT_CLIP_GRAB, p, len);
}

static void guest_request(struct t *t, uint32_t serial, uint32_t transfer,
			  const char *type)
{
	uint8_t p[256];
	uint32_t len = clip_request_build(p, sizeof(p), 0, serial, transfer,
					  type);

	send_event(t, PVA_AGENT_CLIP_REQUEST, p, len);
}

/* A DATA chunk from the guest. */
static void guest_data(struct t *t, uint32_t transfer, uint32_t status,
		       uint32_t flags, uint64_t off, uint64_t total,
		       const void *data, uint32_t n)
{
	static uint8_t p[PVA_MSG_MAX];
	struct pva_clip_data d;

	clip_data_header(&d, transfer, status, flags, off, total);
	memcpy(p, &d, sizeof(d));
	if (n)
		memcpy(p + sizeof(d), data, n);
	send_event(t, PVA_AGENT_CLIP_DATA, p, (uint32_t)sizeof(d) + n);
}

/* ---- the pva-hostctl side ---- */

static int memfd_with(const void *data, size_t n)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	return fd;
}

/* Send a request with @fd, without waiting; the connection. */
static int ctl_start(struct t *t, const char *json, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctrl;
	size_t n = strlen(json);
	char line[1024];
	struct iovec iov = { .iov_base = line, .iov_len = n + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(n < sizeof(line));
	memcpy(line, json, n);
	line[n] = '\n';
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.b;
		mh.msg_controllen = sizeof(ctrl.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(connect(s, (struct sockaddr *)&t->fc.addr,
				 t->fc.addrlen), 0);
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)(n + 1));
	/* let the host read it */
	for (int i = 0; i < 5; i++) {
		struct loop_source *tm = loop_add_timer(t->g.loop, 10, fc_quit,
							(void *)&(int){ 0 });

		loop_run(t->g.loop);
		loop_remove(tm);
	}
	return s;
}

/* Run the host until the answer on @s is there; the answer. */
static struct json_object *ctl_finish(struct t *t, int s)
{
	static const int answered = 0, timed_out = 1;
	struct loop_source *src = loop_add_fd(t->g.loop, s, EPOLLIN | EPOLLRDHUP,
					      fc_quit, (void *)&answered);
	struct loop_source *tm = loop_add_timer(t->g.loop, 15000, fc_quit,
						(void *)&timed_out);
	char b[65536];
	size_t got = 0;
	ssize_t n;
	int rc = loop_run(t->g.loop);

	loop_remove(src);
	loop_remove(tm);
	assert_int_equal(rc, 0);
	while (got < sizeof(b) - 1 && (n = read(s, b + got, sizeof(b) - 1 - got)) > 0)
		got += (size_t)n;
	b[got] = 0;
	close(s);
	return json_tokener_parse(b);
}

static struct json_object *ctl(struct t *t, const char *json, int fd)
{
	return ctl_finish(t, ctl_start(t, json, fd));
}

static void host_set(struct t *t, const void *data, size_t n, const char *type)
{
	char req[256];
	int fd = memfd_with(data, n);
	struct json_object *ans;

	snprintf(req, sizeof(req), "{\"cmd\":\"clipboard-set\"%s%s%s}",
		 type ? ",\"type\":\"" : "", type ? type : "", type ? "\"" : "");
	ans = ctl(t, req, fd);
	close(fd);
	assert_true(fc_ok(ans));
	json_object_put(ans);
}

/* The host's GRAB that follows a set: its serial. */
static uint32_t expect_grab(struct t *t, const char *type, uint32_t seen)
{
	struct pva_msg_hdr h;
	struct clip_grab g;
	const char *why;
	int n = next_msg(t, &h);

	assert_true(n > 0);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_GRAB);
	assert_int_equal(clip_grab_parse(buf, (uint32_t)n, &g, &why), 0);
	assert_int_equal(g.seen, seen);
	if (type) {
		assert_int_equal(g.types.n, 1);
		assert_string_equal(g.types.name[0], type);
	} else {
		assert_int_equal(g.types.n, 0);
	}
	return g.serial;
}

/* Collect the host's DATA for @transfer: the status; the content in @out. */
static uint32_t collect(struct t *t, uint32_t transfer, uint8_t *out,
			size_t cap, size_t *len, unsigned int *chunks)
{
	struct clip_rx rx;
	struct pva_msg_hdr h;
	struct clip_data d;
	const char *why;
	int n, r = 0;

	clip_rx_init(&rx, transfer, cap);
	*chunks = 0;
	while (r == 0 && (n = next_msg(t, &h)) >= 0) {
		assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_DATA);
		assert_int_equal(clip_data_parse(buf, (uint32_t)n, &d, &why), 0);
		r = clip_rx_chunk(&rx, &d, &why);
		assert_true(r >= 0);
		(*chunks)++;
	}
	assert_int_equal(r, 1);
	*len = rx.len;
	if (rx.len)
		memcpy(out, rx.buf, rx.len);
	clip_rx_free(&rx);
	return rx.status;
}

static struct json_object *status(struct t *t)
{
	struct json_object *ans = fc_callf(&t->fc, "{\"cmd\":\"clipboard-status\"}");

	assert_true(fc_ok(ans));
	return ans;
}

static const char *owner(struct t *t)
{
	static char o[16];
	struct json_object *ans = status(t), *c, *s, *v;

	json_object_object_get_ex(ans, "clipboard", &c);
	json_object_object_get_ex(c, "selections", &s);
	json_object_object_get_ex(json_object_array_get_idx(s, 0), "owner", &v);
	snprintf(o, sizeof(o), "%s", json_object_get_string(v));
	json_object_put(ans);
	return o;
}

/* ---- tests ---- */

static void test_hello(void **state)
{
	struct t *t = *state;
	struct pva_agent_hello a;

	/* before HELLO: dropped */
	guest_grab(t, 1, 0, TEXT);
	expect_none(t);
	assert_string_equal(owner(t), "none");
	a = hello(t, PVA_AGENT_F_KNOWN | (1ull << 40), 4096);
	assert_int_equal(pva_le32(a.version), PVA_AGENT_VERSION);
	assert_int_equal(pva_le64(a.features), PVA_AGENT_F_KNOWN);
	assert_int_equal(pva_le64(a.clip_max), 1 << 20);
	{
		/* with guest control, the host checks the guest's clock */
		struct pva_msg_hdr h;

		assert_int_equal(next_msg(t, &h),
				 sizeof(struct pva_agent_time_sync));
		assert_int_equal(pva_le16(h.type), PVA_AGENT_TIME_SYNC);
	}
	/* a HELLO of the wrong size is answered EINVAL */
	assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_HELLO, PVA_MSG_F_REQUEST,
				 77, "x", 1), 0);
	{
		struct pva_msg_hdr h;

		assert_int_equal(next_msg(t, &h), 0);
		assert_int_equal(pva_le32(h.status), PVA_S_EINVAL);
	}
	/* another request type: ENOTSUP */
	assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_INFO, PVA_MSG_F_REQUEST,
				 78, NULL, 0), 0);
	{
		struct pva_msg_hdr h;

		assert_int_equal(next_msg(t, &h), 0);
		assert_int_equal(pva_le32(h.status), PVA_S_ENOTSUP);
	}
}

static void test_info(void **state)
{
	struct t *t = *state;
	static const char info[] = "os.id=debian\0kernel.release=6.1.0\0"
		"Bad Key=x\0nokey\0ctl=a\x01z\0utf=gr\xc3\xbc\xc3\x9f" "e\0"
		"bad.utf=\xc3\x28\0";
	struct json_object *ans, *i, *v;

	hello(t, FEATS, 0);
	send_event(t, PVA_AGENT_INFO, info, sizeof(info) - 1);
	ans = fc_callf(&t->fc, "{\"cmd\":\"guest\"}");
	assert_true(fc_ok(ans));
	json_object_object_get_ex(ans, "info", &i);
	assert_int_equal(json_object_object_length(i), 3);
	assert_true(json_object_object_get_ex(i, "os.id", &v));
	assert_string_equal(json_object_get_string(v), "debian");
	assert_true(json_object_object_get_ex(i, "utf", &v));
	assert_string_equal(json_object_get_string(v), "gr\xc3\xbc\xc3\x9f" "e");
	json_object_object_get_ex(ans, "info_bad", &v);
	assert_int_equal(json_object_get_int(v), 4);
	json_object_put(ans);
	/* not NUL-terminated: all of it dropped, the old kept? no: cleared */
	send_event(t, PVA_AGENT_INFO, "a=b", 3);
	ans = fc_callf(&t->fc, "{\"cmd\":\"guest\"}");
	json_object_object_get_ex(ans, "info", &i);
	assert_int_equal(json_object_object_length(i), 0);
	json_object_put(ans);
}

static void test_host_to_guest(void **state)
{
	struct t *t = *state;
	static uint8_t content[300000], got[300000];
	unsigned int chunks;
	uint32_t serial;
	size_t len;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + (i >> 9));
	hello(t, FEATS, 0);
	host_set(t, content, sizeof(content), "application/x-test");
	serial = expect_grab(t, "application/x-test", 0);
	assert_int_equal(serial, 1);
	assert_string_equal(owner(t), "host");
	guest_request(t, serial, 5, "application/x-test");
	assert_int_equal(collect(t, 5, got, sizeof(got), &len, &chunks),
			 PVA_S_OK);
	assert_int_equal(len, sizeof(content));
	assert_memory_equal(got, content, len);
	assert_true(chunks >= 5);	/* 64 KiB at most each */
	/* a stale serial, an unknown type */
	guest_request(t, serial + 1, 6, "application/x-test");
	assert_int_equal(collect(t, 6, got, sizeof(got), &len, &chunks),
			 PVA_S_ESTALE);
	guest_request(t, serial, 7, "image/png");
	assert_int_equal(collect(t, 7, got, sizeof(got), &len, &chunks),
			 PVA_S_ENOENT);
	/* an empty content is one chunk with LAST */
	host_set(t, "", 0, NULL);
	serial = expect_grab(t, TEXT, 0);
	guest_request(t, serial, 8, TEXT);
	assert_int_equal(collect(t, 8, got, sizeof(got), &len, &chunks),
			 PVA_S_OK);
	assert_int_equal(len, 0);
	assert_int_equal(chunks, 1);
	/* clear: a GRAB without types */
	{
		struct json_object *ans = fc_callf(&t->fc,
			"{\"cmd\":\"clipboard-set\",\"clear\":true}");

		assert_true(fc_ok(ans));
		json_object_put(ans);
	}
	expect_grab(t, NULL, 0);
	assert_string_equal(owner(t), "none");
}

static void test_guest_limits(void **state)
{
	struct t *t = *state;
	static uint8_t content[8192], got[8192];
	unsigned int chunks;
	uint32_t serial;
	size_t len;

	hello(t, FEATS, 4096);	/* the guest takes 4 KiB */
	host_set(t, content, sizeof(content), NULL);
	serial = expect_grab(t, TEXT, 0);
	guest_request(t, serial, 1, TEXT);
	assert_int_equal(collect(t, 1, got, sizeof(got), &len, &chunks),
			 PVA_S_E2BIG);
	/* more than 16 at once (the ring full, the sends waiting): EBUSY
	 * for the rest
	 */
	{
		static uint8_t big[900000];
		struct pva_msg_hdr h;
		struct clip_data d;
		const char *why;
		int n, busy = 0, last = 0;

		hello(t, FEATS, 0);
		/* a new HELLO: the host offers its clipboard again */
		assert_int_equal(expect_grab(t, TEXT, 0), 1);
		host_set(t, big, sizeof(big), NULL);
		serial = expect_grab(t, TEXT, 0);
		/* the first fills most of the ring and is done; 16 wait */
		for (uint32_t i = 0; i < 18; i++)
			guest_request(t, serial, 100 + i, TEXT);
		/* reading makes room: the host sends the rest as it goes */
		while ((n = next_msg(t, &h)) >= 0) {
			assert_int_equal(clip_data_parse(buf, (uint32_t)n, &d,
							 &why), 0);
			busy += d.status == PVA_S_EBUSY;
			last += !!(d.flags & PVA_CLIP_DATA_LAST);
		}
		assert_int_equal(busy, 1);
		assert_int_equal(last, 17);
	}
	/* a request whose struct is short: dropped, nothing sent */
	send_event(t, PVA_AGENT_CLIP_REQUEST, "\0\0\0\0", 4);
	expect_none(t);
}

static void test_guest_to_host(void **state)
{
	struct t *t = *state;
	static uint8_t content[200000], got[200000];
	struct pva_msg_hdr h;
	struct clip_request r;
	struct json_object *ans, *v;
	const char *why;
	int s, fd, n;
	ssize_t rd;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i ^ (i >> 8));
	hello(t, FEATS, 0);
	guest_grab(t, 1, 0, TEXT);
	assert_string_equal(owner(t), "guest");
	fd = memfd_create("get", MFD_CLOEXEC);
	s = ctl_start(t, "{\"cmd\":\"clipboard-get\"}", fd);
	n = next_msg(t, &h);
	assert_true(n > 0);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_REQUEST);
	assert_int_equal(clip_request_parse(buf, (uint32_t)n, &r, &why), 0);
	assert_int_equal(r.serial, 1);
	assert_string_equal(r.type, TEXT);
	for (size_t off = 0; off < sizeof(content); off += 60000) {
		size_t c = sizeof(content) - off < 60000 ?
			   sizeof(content) - off : 60000;

		guest_data(t, r.transfer, 0,
			   off + c == sizeof(content) ? PVA_CLIP_DATA_LAST : 0,
			   off, sizeof(content), content + off, (uint32_t)c);
	}
	ans = ctl_finish(t, s);
	assert_true(fc_ok(ans));
	json_object_object_get_ex(ans, "size", &v);
	assert_int_equal(json_object_get_int64(v), sizeof(content));
	json_object_put(ans);
	rd = pread(fd, got, sizeof(got), 0);
	assert_int_equal(rd, (ssize_t)sizeof(content));
	assert_memory_equal(got, content, sizeof(content));
	close(fd);

	/* a chunk out of place: CANCEL to the guest, an error to hostctl */
	fd = memfd_create("get", MFD_CLOEXEC);
	s = ctl_start(t, "{\"cmd\":\"clipboard-get\"}", fd);
	n = next_msg(t, &h);
	assert_int_equal(clip_request_parse(buf, (uint32_t)n, &r, &why), 0);
	guest_data(t, r.transfer, 0, 0, 0, 100, content, 10);
	guest_data(t, r.transfer, 0, 0, 50, 100, content, 10);
	ans = ctl_finish(t, s);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "malformed"));
	json_object_put(ans);
	n = next_msg(t, &h);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_CANCEL);
	close(fd);

	/* the guest answers with an error */
	fd = memfd_create("get", MFD_CLOEXEC);
	s = ctl_start(t, "{\"cmd\":\"clipboard-get\"}", fd);
	n = next_msg(t, &h);
	assert_int_equal(clip_request_parse(buf, (uint32_t)n, &r, &why), 0);
	guest_data(t, r.transfer, PVA_S_EIO, 0, 0, 0, NULL, 0);
	ans = ctl_finish(t, s);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "could not read"));
	json_object_put(ans);
	close(fd);

	/* a type the guest does not have: refused at once */
	fd = memfd_create("get", MFD_CLOEXEC);
	ans = ctl(t, "{\"cmd\":\"clipboard-get\",\"type\":\"image/png\"}", fd);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "has no image/png"));
	json_object_put(ans);
	close(fd);

	/* no answer at all: timed out, CANCEL sent */
	fd = memfd_create("get", MFD_CLOEXEC);
	s = ctl_start(t, "{\"cmd\":\"clipboard-get\",\"timeout_ms\":300}", fd);
	n = next_msg(t, &h);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_REQUEST);
	for (int i = 0; i < 5; i++)
		device_tick(t->g.dev);	/* ticks pass without an answer */
	usleep(350000);
	device_tick(t->g.dev);
	ans = ctl_finish(t, s);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "in time"));
	json_object_put(ans);
	n = next_msg(t, &h);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_CLIP_CANCEL);
	close(fd);
}

static void test_crossed(void **state)
{
	struct t *t = *state;
	struct json_object *ans, *c, *v;

	hello(t, FEATS, 0);
	host_set(t, "host", 4, NULL);
	assert_int_equal(expect_grab(t, TEXT, 0), 1);
	/* the guest grabbed without having seen the host's serial 1 */
	guest_grab(t, 1, 0, "text/html");
	assert_string_equal(owner(t), "guest");
	ans = status(t);
	json_object_object_get_ex(ans, "clipboard", &c);
	json_object_object_get_ex(c, "crossed", &v);
	assert_int_equal(json_object_get_int(v), 1);
	json_object_put(ans);
	/* the host's next grab says it has seen the guest's serial 1 */
	host_set(t, "again", 5, NULL);
	assert_int_equal(expect_grab(t, TEXT, 1), 2);
}

static void test_reset(void **state)
{
	struct t *t = *state;
	struct json_object *ans;
	struct pva_msg_hdr h;
	int s, fd;

	hello(t, FEATS, 0);
	guest_grab(t, 1, 0, TEXT);
	fd = memfd_create("get", MFD_CLOEXEC);
	s = ctl_start(t, "{\"cmd\":\"clipboard-get\"}", fd);
	assert_true(next_msg(t, &h) > 0);
	/* the guest driver reloads: the device resets */
	assert_int_equal(fg_negotiate(&t->g), 0);
	ans = ctl_finish(t, s);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "went away"));
	json_object_put(ans);
	close(fd);
	assert_string_equal(owner(t), "none");
	/* the host's own clipboard survives and is offered after HELLO */
	host_set(t, "kept", 4, NULL);
	expect_none(t);		/* no guest agent: nothing sent */
	hello(t, FEATS, 0);
	assert_int_equal(expect_grab(t, TEXT, 0), 1);
}

static void test_watch(void **state)
{
	struct t *t = *state;
	char b[8192];
	size_t got = 0;
	ssize_t n;
	int s;

	hello(t, FEATS, 0);
	s = ctl_start(t, "{\"cmd\":\"clipboard-watch\"}", -1);
	guest_grab(t, 1, 0, "image/png");
	/* process it, then see what the watcher got */
	for (int i = 0; i < 5; i++) {
		struct loop_source *tm = loop_add_timer(t->g.loop, 10, fc_quit,
							(void *)&(int){ 0 });

		loop_run(t->g.loop);
		loop_remove(tm);
	}
	while ((n = recv(s, b + got, sizeof(b) - 1 - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	b[got] = 0;
	close(s);
	assert_non_null(strstr(b, "\"event\":\"agent\""));
	assert_non_null(strstr(b, "\"owner\":\"guest\""));
	assert_non_null(strstr(b, "image\\/png"));
	/* the watcher left: the next change must not touch it */
	guest_grab(t, 2, 0, TEXT);
	assert_string_equal(owner(t), "guest");
}

static void test_control(void **state)
{
	struct t *t = *state;
	struct pva_agent_time_status ts = { 0 };
	struct pva_agent_time tm;
	struct pva_msg_hdr h;
	struct json_object *ans, *v;
	struct timespec now;
	int s, n;

	hello(t, PVA_AGENT_F_KNOWN, 0);
	assert_true(next_msg(t, &h) > 0);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_TIME_SYNC);
	/* TIME_QUERY: the host's realtime */
	assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_TIME_QUERY,
				 PVA_MSG_F_REQUEST, 9, NULL, 0), 0);
	assert_int_equal(next_msg(t, &h), sizeof(tm));
	assert_int_equal(pva_le16(h.flags), PVA_MSG_F_RESPONSE);
	memcpy(&tm, buf, sizeof(tm));
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(llabs((int64_t)pva_le64(tm.realtime_ns) -
			  ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec)) <
		    2000000000ll);
	/* time sync: waits for the guest's TIME_STATUS */
	s = ctl_start(t, "{\"cmd\":\"time-sync\"}", -1);
	assert_true(next_msg(t, &h) > 0);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_TIME_SYNC);
	ts.action = pva_cpu32(PVA_TIME_STEPPED);
	ts.offset_ns = pva_cpu64((uint64_t)-3600000000000ll);
	send_event(t, PVA_AGENT_TIME_STATUS, &ts, sizeof(ts));
	ans = ctl_finish(t, s);
	assert_true(fc_ok(ans));
	json_object_object_get_ex(ans, "offset_ns", &v);
	assert_int_equal(json_object_get_int64(v), -3600000000000ll);
	json_object_object_get_ex(ans, "action", &v);
	assert_string_equal(json_object_get_string(v), "stepped");
	json_object_put(ans);
	/* a malformed TIME_STATUS is dropped */
	send_event(t, PVA_AGENT_TIME_STATUS, &ts, 8);
	/* fsfreeze: the guest's answer, and its error */
	s = ctl_start(t, "{\"cmd\":\"fsfreeze\",\"op\":\"freeze\",\"timeout_s\":30}", -1);
	n = next_msg(t, &h);
	assert_int_equal(n, sizeof(struct pva_agent_fsfreeze));
	assert_int_equal(pva_le16(h.type), PVA_AGENT_FSFREEZE);
	assert_int_equal(pva_le16(h.flags), PVA_MSG_F_REQUEST);
	{
		uint8_t p[64] = { 1, 0, 0, 0, 30, 0, 0, 0 };

		strcpy((char *)p + 8, "/data");
		assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_FSFREEZE,
					 PVA_MSG_F_RESPONSE, pva_le32(h.req_id),
					 p, 14), 0);
	}
	ans = ctl_finish(t, s);
	assert_true(fc_ok(ans));
	json_object_object_get_ex(ans, "text", &v);
	assert_string_equal(json_object_get_string(v), "/data");
	json_object_put(ans);
	s = ctl_start(t, "{\"cmd\":\"fsfreeze\",\"op\":\"freeze\"}", -1);
	n = next_msg(t, &h);
	{
		struct pva_msg_hdr r = {
			.len = pva_cpu32(9), .type = pva_cpu16(PVA_AGENT_FSFREEZE),
			.flags = pva_cpu16(PVA_MSG_F_RESPONSE),
			.service = pva_cpu16(AGT), .req_id = h.req_id,
			.status = pva_cpu32(PVA_S_EBUSY),
		};
		uint8_t p[9] = { 1 };
		struct pva_ring *ring = &t->g.tx[AGT];

		/* fg_send cannot set a status: write the answer by hand */
		assert_int_equal(pva_ring_prod_space(ring, pva_msg_record_size(9)),
				 PVA_RING_OK);
		pva_ring_copy_in(ring, ring->local, &r, sizeof(r));
		pva_ring_copy_in(ring, ring->local + sizeof(r), p, 9);
		pva_ring_prod_commit(ring, pva_msg_record_size(9));
		device_doorbell(t->g.dev, pva_service_vector(AGT, FG_NVEC));
	}
	ans = ctl_finish(t, s);
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "frozen already"));
	json_object_put(ans);
	/* power: accepted, then the guest goes away: done */
	s = ctl_start(t, "{\"cmd\":\"power\",\"action\":\"reboot\"}", -1);
	n = next_msg(t, &h);
	assert_int_equal(pva_le16(h.type), PVA_AGENT_POWER);
	assert_int_equal(fg_send(&t->g, AGT, PVA_AGENT_POWER, PVA_MSG_F_RESPONSE,
				 pva_le32(h.req_id), NULL, 0), 0);
	{
		struct pva_agent_guest_state gs = {
			.state = pva_cpu32(PVA_GUEST_STATE_REBOOT),
		};

		send_event(t, PVA_AGENT_GUEST_STATE, &gs, sizeof(gs));
	}
	assert_int_equal(fg_negotiate(&t->g), 0);	/* it rebooted */
	ans = ctl_finish(t, s);
	assert_true(fc_ok(ans));
	json_object_object_get_ex(ans, "reported", &v);
	assert_true(json_object_get_boolean(v));
	json_object_put(ans);
	/* without a guest: a clear error */
	ans = fc_callf(&t->fc, "{\"cmd\":\"power\",\"action\":\"shutdown\"}");
	assert_false(fc_ok(ans));
	assert_non_null(strstr(fc_error(ans), "not connected"));
	json_object_put(ans);
	ans = fc_callf(&t->fc, "{\"cmd\":\"power\",\"action\":\"halt\"}");
	assert_false(fc_ok(ans));
	json_object_put(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_to_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crossed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
