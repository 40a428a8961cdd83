// SPDX-License-Identifier: MIT
/*
 * pva-host's device and services against a fake guest (fake_guest.h):
 * negotiation and version skew, pings, guest information, the echo
 * channel, back-pressure, and hostile input that must reset the device
 * without the host reading or writing out of bounds (ASan/UBSan build).
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>

#include "fake_guest.h"
#include "guest_ram.h"
#include "log.h"

static uint8_t buf[PVA_MSG_MAX];

static int setup(void **state)
{
	struct fake_guest *g = calloc(1, sizeof(*g));

	log_init("test", LOG_CRIT);
	if (!g || fg_init(g))
		return -1;
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	fg_fini(*state);
	free(*state);
	return 0;
}

static uint32_t generation(struct fake_guest *g)
{
	return pva_le32(fg_hdr(g)->host.generation);
}

/* A number from the host's status, at a path like "host.resets". */
static int64_t status_int(struct fake_guest *g, const char *svc,
			  const char *key)
{
	struct json_object *o = json_object_new_object(), *v = NULL, *s;
	int64_t n = -1;

	device_status(g->dev, o);
	if (!svc) {
		json_object_object_get_ex(o, "host", &s);
		json_object_object_get_ex(s, key, &v);
	} else {
		json_object_object_get_ex(o, "services", &s);
		for (size_t i = 0; i < json_object_array_length(s); i++) {
			struct json_object *e = json_object_array_get_idx(s, i), *nm;

			json_object_object_get_ex(e, "name", &nm);
			if (!strcmp(json_object_get_string(nm), svc))
				json_object_object_get_ex(e, key, &v);
		}
	}
	if (v)
		n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static void test_negotiate(void **state)
{
	struct fake_guest *g = *state;
	struct pva_host_area *h = &fg_hdr(g)->host;

	assert_int_equal(pva_le32(h->magic), PVA_MAGIC);
	assert_int_equal(pva_le32(h->host_status), PVA_HOST_READY);
	assert_int_equal(pva_le32(h->nr_services), FG_NSVC);
	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(pva_le16(h->ack_major), 1);
	assert_int_equal(pva_le16(h->ack_minor), 0);
	assert_int_equal(pva_le64(h->ack_features), PVA_F_KNOWN);
	assert_true(device_negotiated(g->dev));
}

static void test_version_skew(void **state)
{
	struct fake_guest *g = *state;
	struct pva_host_area *h = &fg_hdr(g)->host;

	/* a newer guest: majors 1-3, minor 9, unknown features */
	fg_request(g, 1, 3, 9, ~0ull, FG_NVEC);
	assert_true(fg_acked(g));
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_OK);
	assert_int_equal(pva_le16(h->ack_major), 1);
	assert_int_equal(pva_le16(h->ack_minor), 0);
	assert_int_equal(pva_le64(h->ack_features), PVA_F_KNOWN);
	/* an older guest without features */
	fg_request(g, 1, 1, 0, 0, 1);
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_OK);
	assert_int_equal(pva_le64(h->ack_features), 0);
	/* only majors the host does not speak */
	fg_request(g, 2, 3, 0, PVA_F_KNOWN, FG_NVEC);
	assert_true(fg_acked(g));
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_VERSION);
	assert_false(device_negotiated(g->dev));
	/* malformed requests */
	fg_request(g, 1, 1, 0, 0, 0);
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_INVALID);
	fg_request(g, 2, 1, 0, 0, 1);
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_INVALID);
	fg_request(g, 0, 0, 0, 0, 1);
	assert_int_equal(pva_le32(h->ack_status), PVA_NEG_INVALID);
	/* a request for another generation is not answered */
	fg_hdr(g)->guest.generation = pva_cpu32(generation(g) + 5);
	pva_store_release(&fg_hdr(g)->guest.req_seq,
			  pva_cpu32(pva_le32(fg_hdr(g)->guest.req_seq) + 1));
	device_doorbell(g->dev, 0);
	assert_false(fg_acked(g));
	/* a newer host offering majors 1-2 still talks 1.0 to a 1.x guest */
	device_set_protocol(g->dev, 1, 2, 4, PVA_F_KNOWN | (1ull << 40));
	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(pva_le16(h->ack_major), 1);
	assert_int_equal(pva_le16(h->ack_minor), 0);
	assert_int_equal(pva_le64(h->ack_features), PVA_F_KNOWN);
}

static void test_ping_from_guest(void **state)
{
	struct fake_guest *g = *state;
	struct pva_msg_hdr h;

	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(fg_send(g, 0, PVA_CTRL_PING, PVA_MSG_F_REQUEST, 42,
				 "ping!", 5), 0);
	assert_int_equal(fg_recv(g, 0, &h, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "ping!", 5);
	assert_int_equal(pva_le16(h.flags), PVA_MSG_F_RESPONSE);
	assert_int_equal(pva_le32(h.req_id), 42);
	assert_int_equal(pva_le32(h.status), PVA_S_OK);
	/* unknown requests get ENOTSUP, unknown events nothing */
	assert_int_equal(fg_send(g, 0, 999, PVA_MSG_F_REQUEST, 43, NULL, 0), 0);
	assert_int_equal(fg_recv(g, 0, &h, buf, sizeof(buf)), 0);
	assert_int_equal(pva_le32(h.status), PVA_S_ENOTSUP);
	assert_int_equal(fg_send(g, 0, 999, 0, 0, NULL, 0), 0);
	assert_int_equal(fg_recv(g, 0, &h, buf, sizeof(buf)), -1);
	/* a response nobody asked for is counted, not fatal */
	assert_int_equal(fg_send(g, 0, PVA_CTRL_PING, PVA_MSG_F_RESPONSE, 9,
				 NULL, 0), 0);
	assert_int_equal(status_int(g, "control", "bad_msgs"), 1);
	assert_true(device_negotiated(g->dev));
}

static void test_guest_info(void **state)
{
	struct fake_guest *g = *state;
	struct pva_guest_info info = { .nr_cpus = pva_cpu32(4) };
	struct json_object *o, *s, *c, *gi, *k;

	assert_int_equal(fg_negotiate(g), 0);
	strcpy(info.kernel, "6.1.0-test");
	strcpy(info.arch, "x86_64");
	strcpy(info.driver, "0.1.0");
	/* wrong size, and a string without its NUL: refused */
	assert_int_equal(fg_send(g, 0, PVA_CTRL_GUEST_INFO, 0, 0, &info, 100), 0);
	memset(info.arch, 'x', sizeof(info.arch));
	assert_int_equal(fg_send(g, 0, PVA_CTRL_GUEST_INFO, 0, 0, &info,
				 sizeof(info)), 0);
	assert_int_equal(status_int(g, "control", "bad_msgs"), 2);
	strcpy(info.arch, "x86_64");
	assert_int_equal(fg_send(g, 0, PVA_CTRL_GUEST_INFO, 0, 0, &info,
				 sizeof(info)), 0);
	o = json_object_new_object();
	device_status(g->dev, o);
	json_object_object_get_ex(o, "services", &s);
	c = json_object_array_get_idx(s, 0);
	assert_true(json_object_object_get_ex(c, "guest_info", &gi));
	assert_true(json_object_object_get_ex(gi, "kernel", &k));
	assert_string_equal(json_object_get_string(k), "6.1.0-test");
	json_object_put(o);
}

static void test_echo(void **state)
{
	struct fake_guest *g = *state;
	struct pva_echo_source src = {
		.bytes = pva_cpu64(10000), .msg_size = pva_cpu32(3000),
	};
	struct pva_echo_count cnt;
	struct pva_msg_hdr h;
	uint64_t got = 0;
	int n;

	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_ECHO, 0, 0, "abc", 3), 0);
	assert_int_equal(fg_recv(g, 1, &h, buf, sizeof(buf)), 3);
	assert_int_equal(pva_le16(h.flags), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(fg_send(g, 1, PVA_ECHO_SINK, 0, 0, buf, 100), 0);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_SINK, PVA_MSG_F_REQUEST, 2,
				 NULL, 0), 0);
	assert_int_equal(fg_recv(g, 1, &h, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(pva_le64(cnt.msgs), 6);
	assert_int_equal(pva_le64(cnt.bytes), 500);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_SOURCE, PVA_MSG_F_REQUEST, 3,
				 &src, sizeof(src)), 0);
	while ((n = fg_recv(g, 1, &h, buf, sizeof(buf))) >= 0) {
		if (pva_le16(h.type) == PVA_ECHO_SOURCE)
			break;
		for (int i = 0; i < n; i++)
			assert_int_equal(buf[i], (uint8_t)(got + (uint64_t)i));
		got += (uint64_t)n;
	}
	assert_int_equal(got, 10000);
	assert_int_equal(pva_le16(h.type), PVA_ECHO_SOURCE);
	assert_int_equal(pva_le32(h.req_id), 3);
	/* invalid SOURCE requests */
	src.msg_size = 0;
	assert_int_equal(fg_send(g, 1, PVA_ECHO_SOURCE, PVA_MSG_F_REQUEST, 4,
				 &src, sizeof(src)), 0);
	assert_int_equal(fg_recv(g, 1, &h, buf, sizeof(buf)), 0);
	assert_int_equal(pva_le32(h.status), PVA_S_EINVAL);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_SOURCE, PVA_MSG_F_REQUEST, 5,
				 &src, 3), 0);
	assert_int_equal(fg_recv(g, 1, &h, buf, sizeof(buf)), 0);
	assert_int_equal(pva_le32(h.status), PVA_S_EINVAL);
	assert_true(device_negotiated(g->dev));
}

/* The guest stops reading: the host must stop reading too, losing nothing. */
static void test_backpressure(void **state)
{
	struct fake_guest *g = *state;
	struct pva_msg_hdr h;
	int sent = 0, got = 0;

	assert_int_equal(fg_negotiate(g), 0);
	memset(buf, 7, 60000);
	while (fg_send(g, 1, PVA_ECHO_ECHO, PVA_MSG_F_REQUEST,
		       (uint32_t)sent + 1, buf, 60000) == 0)
		sent++;
	/* 512 KiB each way: both rings hold some */
	assert_true(sent > 10);
	assert_true(status_int(g, "echo", "tx_full") > 0);
	while (fg_recv(g, 1, &h, buf, sizeof(buf)) == 60000) {
		got++;
		assert_int_equal(pva_le32(h.req_id), got);
	}
	assert_int_equal(got, sent);
	assert_true(device_negotiated(g->dev));
}

/* A busy ring is drained in slices; the host reschedules itself. */
static void test_drain_budget(void **state)
{
	struct fake_guest *g = *state;
	struct pva_msg_hdr h = { .type = pva_cpu16(PVA_ECHO_SINK),
				 .service = pva_cpu16(1) };
	unsigned int v = pva_service_vector(1, FG_NVEC);
	struct pva_ring *r = &g->tx[1];
	uint64_t cnt;

	assert_int_equal(fg_negotiate(g), 0);
	for (int i = 0; i < 300; i++) {
		pva_ring_copy_in(r, r->local, &h, sizeof(h));
		pva_ring_prod_commit(r, sizeof(h));
	}
	device_doorbell(g->dev, v);
	assert_int_equal(status_int(g, "echo", "rx_msgs"), 256);
	/* the host rang its own doorbell to come back */
	assert_int_equal(read(g->host_ev[v], &cnt, sizeof(cnt)), sizeof(cnt));
	device_doorbell(g->dev, v);
	assert_int_equal(status_int(g, "echo", "rx_msgs"), 300);
	assert_int_equal(read(g->host_ev[v], &cnt, sizeof(cnt)), -1);
}

static void expect_reset(struct fake_guest *g, uint32_t gen_before)
{
	assert_false(device_negotiated(g->dev));
	assert_true(generation(g) > gen_before);
	assert_true(status_int(g, NULL, "protocol_errors") >= 1);
	/* and the guest can come back */
	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(fg_send(g, 0, PVA_CTRL_PING, PVA_MSG_F_REQUEST, 1,
				 "x", 1), 0);
	assert_int_equal(fg_recv(g, 0, &(struct pva_msg_hdr){ 0 }, buf,
				 sizeof(buf)), 1);
}

static void test_hostile_ring_index(void **state)
{
	struct fake_guest *g = *state;
	uint32_t gen;

	assert_int_equal(fg_negotiate(g), 0);
	gen = generation(g);
	g->tx[1].ctrl->prod = pva_cpu32(1u << 30);
	device_doorbell(g->dev, pva_service_vector(1, FG_NVEC));
	expect_reset(g, gen);
}

static void test_hostile_consumer_index(void **state)
{
	struct fake_guest *g = *state;
	uint32_t gen;

	assert_int_equal(fg_negotiate(g), 0);
	gen = generation(g);
	/* the guest claims to have consumed more than the host produced */
	g->rx[1].ctrl->cons = pva_cpu32(4096);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_ECHO, 0, 0, "a", 1), 0);
	expect_reset(g, gen);
}

static void test_hostile_header(void **state)
{
	struct fake_guest *g = *state;
	struct pva_msg_hdr h = { .len = pva_cpu32(8), .service = pva_cpu16(1),
				 .reserved1 = pva_cpu32(1) };
	struct pva_ring *r = &g->tx[1];
	uint32_t gen;

	assert_int_equal(fg_negotiate(g), 0);
	gen = generation(g);
	/* reserved field set */
	pva_ring_copy_in(r, r->local, &h, sizeof(h));
	pva_ring_prod_commit(r, 32);
	device_doorbell(g->dev, pva_service_vector(1, FG_NVEC));
	expect_reset(g, gen);
	/* a message for another service on this ring */
	gen = generation(g);
	h.reserved1 = 0;
	h.service = pva_cpu16(0);
	pva_ring_copy_in(r, r->local, &h, sizeof(h));
	pva_ring_prod_commit(r, 32);
	device_doorbell(g->dev, pva_service_vector(1, FG_NVEC));
	expect_reset(g, gen);
	/* a length past the published end */
	gen = generation(g);
	h.service = pva_cpu16(1);
	h.len = pva_cpu32(5000);
	pva_ring_copy_in(r, r->local, &h, sizeof(h));
	pva_ring_prod_commit(r, 32);
	device_doorbell(g->dev, pva_service_vector(1, FG_NVEC));
	expect_reset(g, gen);
}

static void test_guest_reports_failure(void **state)
{
	struct fake_guest *g = *state;
	uint32_t gen;

	assert_int_equal(fg_negotiate(g), 0);
	gen = generation(g);
	fg_hdr(g)->guest.error = pva_cpu32(PVA_GERR_RING);
	fg_hdr(g)->guest.status = pva_cpu32(PVA_GUEST_FAILED);
	device_doorbell(g->dev, 0);
	assert_false(device_negotiated(g->dev));
	sleep(1);
	device_tick(g->dev);
	assert_true(generation(g) > gen);
	assert_int_equal(fg_negotiate(g), 0);
}

/* A restarted worker continues the generation and leaves the rings alone
 * until the guest renegotiates.
 */
static void test_worker_restart(void **state)
{
	struct fake_guest *g = *state;
	uint32_t gen, prod;
	int guest_ev[FG_NVEC];

	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(fg_send(g, 1, PVA_ECHO_SINK, 0, 0, "zz", 2), 0);
	gen = generation(g);
	prod = pva_le32(g->tx[1].ctrl->prod);
	device_free(g->dev);	/* the worker dies; the memory stays */
	g->dev = device_new(&g->cfg, g->loop, g->shm_fd, g->host_ev, FG_NVEC);
	assert_non_null(g->dev);
	assert_int_equal(device_add_service(g->dev, &control_service_ops), 0);
	assert_int_equal(device_add_service(g->dev, &echo_service_ops), 0);
	assert_int_equal(device_add_service(g->dev, &balloon_service_ops), 0);
	assert_int_equal(device_start(g->dev), 0);
	for (int v = 0; v < FG_NVEC; v++)
		guest_ev[v] = eventfd(0, EFD_CLOEXEC);
	device_guest_up(g->dev, guest_ev, FG_NVEC, 1);
	assert_int_equal(generation(g), gen + 1);
	assert_int_equal(pva_le32(g->tx[1].ctrl->prod), prod);
	assert_false(device_negotiated(g->dev));
	assert_int_equal(fg_negotiate(g), 0);
	assert_int_equal(pva_le32(g->tx[1].ctrl->prod), 0);
}

/* ---- the balloon service ---- */

#define BSVC	2
#define KIB	1024ull

static uint64_t ram_allocated(struct fake_guest *g)
{
	struct stat st;

	fstat(g->ram_fd, &st);
	return (uint64_t)st.st_blocks * 512;
}

static int64_t balloon_int(struct fake_guest *g, const char *key)
{
	struct json_object *o = json_object_new_object(), *s, *e, *b, *v;
	const char *sub = strchr(key, '.');
	int64_t n = -1;

	device_status(g->dev, o);
	json_object_object_get_ex(o, "services", &s);
	e = json_object_array_get_idx(s, BSVC);
	json_object_object_get_ex(e, "balloon", &b);
	if (sub) {
		char first[32];

		snprintf(first, sizeof(first), "%.*s", (int)(sub - key), key);
		json_object_object_get_ex(b, first, &b);
		key = sub + 1;
	}
	if (json_object_object_get_ex(b, key, &v))
		n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static void balloon_hello(struct fake_guest *g, uint32_t page_size,
			  uint32_t want_status)
{
	struct pva_balloon_hello h = {
		.features = pva_cpu64(PVA_BALLOON_F_KNOWN),
		.page_size = pva_cpu32(page_size),
	};
	struct pva_balloon_config cfg;
	struct pva_msg_hdr r;

	assert_int_equal(fg_send(g, BSVC, PVA_BALLOON_HELLO, PVA_MSG_F_REQUEST,
				 1, &h, sizeof(h)), 0);
	assert_true(fg_recv(g, BSVC, &r, &cfg, sizeof(cfg)) >= 0);
	assert_int_equal(pva_le32(r.status), want_status);
}

/* Send @n ranges; returns the answer's status, *res the result. */
static uint32_t balloon_ranges(struct fake_guest *g, uint16_t type,
			       const struct pva_balloon_range *r, uint32_t n,
			       struct pva_balloon_result *res)
{
	struct pva_msg_hdr h;

	memset(res, 0, sizeof(*res));
	assert_int_equal(fg_send(g, BSVC, type, PVA_MSG_F_REQUEST, 9, r,
				 n * (uint32_t)sizeof(*r)), 0);
	assert_true(fg_recv(g, BSVC, &h, res, sizeof(*res)) >= 0);
	return pva_le32(h.status);
}

static struct pva_balloon_range range(uint64_t gpa, uint64_t len)
{
	return (struct pva_balloon_range){ pva_cpu64(gpa), pva_cpu64(len) };
}

static void test_balloon(void **state)
{
	static struct pva_balloon_range many[PVA_BALLOON_MAX_RANGES + 1];
	static uint8_t fill[FG_RAM_SIZE];
	struct fake_guest *g = *state;
	struct pva_balloon_result res;
	struct pva_balloon_range r[3];
	struct pva_balloon_status st = { .actual = pva_cpu64(64 * KIB) };
	uint64_t before;

	assert_int_equal(fg_negotiate(g), 0);
	/* the guest has touched all its RAM */
	memset(fill, 1, sizeof(fill));
	assert_int_equal(pwrite(g->ram_fd, fill, sizeof(fill), 0), sizeof(fill));
	before = ram_allocated(g);
	assert_true(before >= FG_RAM_SIZE);

	balloon_hello(g, 3000, PVA_S_EINVAL);	/* not a page size */
	balloon_hello(g, 4096, PVA_S_OK);
	assert_int_equal(balloon_int(g, "guest_driver"), 1);

	/* inflate 64 KiB and 4 KiB: the host file shrinks by as much */
	r[0] = range(1 << 20, 64 * KIB);
	r[1] = range(3 << 20, 4 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_INFLATE, r, 2, &res), 0);
	assert_int_equal(pva_le64(res.accepted), 68 * KIB);
	assert_int_equal(pva_le64(res.refused), 0);
	assert_int_equal(before - ram_allocated(g), 68 * KIB);
	/* outside RAM, misaligned, empty, overflowing: refused */
	r[0] = range(FG_RAM_SIZE, 4 * KIB);
	r[1] = range(4096 + 512, 4 * KIB);
	r[2] = range(UINT64_MAX - 4095, 8 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_INFLATE, r, 3, &res), 0);
	assert_int_equal(pva_le64(res.accepted), 0);
	assert_int_equal(pva_le64(res.refused), 16 * KIB);
	assert_int_equal(before - ram_allocated(g), 68 * KIB);
	/* deflate what the balloon holds; then again: not its own any more */
	r[0] = range(1 << 20, 64 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_DEFLATE, r, 1, &res), 0);
	assert_int_equal(pva_le64(res.accepted), 64 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_DEFLATE, r, 1, &res), 0);
	assert_int_equal(pva_le64(res.refused), 64 * KIB);
	/* a deflate may be an event: no answer, same effect */
	r[0] = range(3 << 20, 4 * KIB);
	assert_int_equal(fg_send(g, BSVC, PVA_BALLOON_DEFLATE, 0, 0, r,
				 sizeof(r[0])), 0);
	assert_int_equal(fg_recv(g, BSVC, &(struct pva_msg_hdr){ 0 }, &res,
				 sizeof(res)), -1);
	assert_int_equal(balloon_int(g, "host.deflated"), 68 * KIB);
	/* a free page report is punched too */
	r[0] = range(5 << 20, 128 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_REPORT, r, 1, &res), 0);
	assert_int_equal(before - ram_allocated(g), 196 * KIB);
	assert_int_equal(balloon_int(g, "host.reported"), 128 * KIB);
	/* malformed: too many ranges, a partial range */
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_INFLATE, many,
					PVA_BALLOON_MAX_RANGES + 1, &res),
			 PVA_S_EINVAL);
	assert_int_equal(fg_send(g, BSVC, PVA_BALLOON_INFLATE, PVA_MSG_F_REQUEST,
				 3, r, 8), 0);
	assert_int_equal(fg_recv(g, BSVC, &(struct pva_msg_hdr){ 0 }, &res,
				 sizeof(res)), 0);
	/* status events update what the host shows */
	assert_int_equal(fg_send(g, BSVC, PVA_BALLOON_STATUS, 0, 0, &st,
				 sizeof(st)), 0);
	assert_int_equal(balloon_int(g, "actual"), 64 * KIB);
	assert_int_equal(fg_send(g, BSVC, PVA_BALLOON_STATUS, 0, 0, &st, 5), 0);
	assert_true(status_int(g, "balloon", "bad_msgs") >= 3);
	assert_true(device_negotiated(g->dev));
	/* a new hello forgets the ranges: a deflate is refused now */
	r[0] = range(7 << 20, 4 * KIB);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_INFLATE, r, 1, &res), 0);
	balloon_hello(g, 4096, PVA_S_OK);
	assert_int_equal(balloon_ranges(g, PVA_BALLOON_DEFLATE, r, 1, &res), 0);
	assert_int_equal(pva_le64(res.refused), 4 * KIB);
}

static void test_ram_layouts(void **state)
{
	int fd = memfd_create("layout", MFD_CLOEXEC);
	struct guest_ram *ram;
	char path[64];
	uint64_t off;

	(void)state;
	/* 3 GiB on q35: 2 GiB below 4 GiB, 1 GiB from 4 GiB (sparse file) */
	assert_int_equal(ftruncate(fd, 3ll << 30), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ram = guest_ram_open(path, "q35");
	assert_non_null(ram);
	assert_int_equal(guest_ram_offset(ram, 0, 4096, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(guest_ram_offset(ram, (2ull << 30) - 4096, 4096, &off), 0);
	assert_int_equal(guest_ram_offset(ram, 2ull << 30, 4096, &off), -ERANGE);
	assert_int_equal(guest_ram_offset(ram, (2ull << 30) - 4096, 8192, &off),
			 -ERANGE);	/* across the hole */
	assert_int_equal(guest_ram_offset(ram, 4ull << 30, 4096, &off), 0);
	assert_int_equal(off, 2ull << 30);
	assert_int_equal(guest_ram_offset(ram, (5ull << 30) - 4096, 4096, &off), 0);
	assert_int_equal(off, (3ull << 30) - 4096);
	assert_int_equal(guest_ram_offset(ram, 5ull << 30, 4096, &off), -ERANGE);
	guest_ram_close(ram);
	/* 512 MiB on q35: all below 4 GiB */
	assert_int_equal(ftruncate(fd, 512 << 20), 0);
	ram = guest_ram_open(path, "q35");
	assert_int_equal(guest_ram_offset(ram, (512 << 20) - 4096, 4096, &off), 0);
	assert_int_equal(guest_ram_offset(ram, 512 << 20, 4096, &off), -ERANGE);
	assert_int_equal(guest_ram_offset(ram, 4ull << 30, 4096, &off), -ERANGE);
	guest_ram_close(ram);
	/* aarch64 virt: RAM from 1 GiB */
	ram = guest_ram_open(path, "virt");
	assert_int_equal(guest_ram_offset(ram, 0, 4096, &off), -ERANGE);
	assert_int_equal(guest_ram_offset(ram, 1ull << 30, 4096, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(guest_ram_offset(ram, (1ull << 30) + (512 << 20), 1, &off),
			 -ERANGE);
	guest_ram_close(ram);
	assert_null(guest_ram_open("/nonexistent", "q35"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_from_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_ring_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_consumer_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_reports_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_balloon, setup, teardown),
		cmocka_unit_test(test_ram_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
