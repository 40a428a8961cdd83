// SPDX-License-Identifier: MIT
/*
 * Unit tests of the ring helpers in protocol/pva_ring.h: sizes, wrap-around,
 * full and empty rings, the largest message, free-running index overflow,
 * event indexes, hostile indexes and lengths, and a producer and a consumer
 * thread that exchange 200000 messages with doorbells modelled by condition
 * variables (a lost wake-up hangs the test, and the alarm fails it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pva_ring.h"

#define RSIZE 4096u

struct shared_ring {
	struct pva_ring_ctrl ctrl;
	uint8_t data[1 << 16];
} __attribute__((aligned(128)));

static struct shared_ring sr;

/* Fresh producer and consumer views of one ring of @size bytes. */
static void setup_ring(struct pva_ring *p, struct pva_ring *c, uint32_t size,
		       int ei, uint32_t start)
{
	memset(&sr, 0, sizeof(sr));
	pva_ring_attach(p, &sr, size, ei);
	pva_ring_attach(c, &sr, size, ei);
	pva_ring_reset_shared(p);
	p->local = c->local = start;
	sr.ctrl.prod = sr.ctrl.cons = pva_cpu32(start);
	sr.ctrl.data_event = pva_cpu32(start);
}

/* 2: committed, signal the consumer; 0: committed; -1: no room. */
static int produce(struct pva_ring *p, uint16_t type, const void *payload,
		   uint32_t len)
{
	struct pva_msg_hdr h = { .len = pva_cpu32(len), .type = pva_cpu16(type) };
	uint32_t rec = pva_msg_record_size(len);

	if (pva_ring_prod_space(p, rec) != PVA_RING_OK)
		return -1;	/* full or corrupt */
	pva_ring_copy_in(p, p->local, &h, sizeof(h));
	pva_ring_copy_in(p, p->local + sizeof(h), payload, len);
	return pva_ring_prod_commit(p, rec) ? 2 : 0;
}

static int consume(struct pva_ring *c, uint16_t *type, void *buf,
		   uint32_t *len)
{
	struct pva_msg_hdr h;
	int ret = pva_ring_cons_peek(c, &h);

	if (ret != PVA_RING_OK)
		return ret;
	*len = pva_le32(h.len);
	*type = pva_le16(h.type);
	pva_ring_cons_read(c, 0, buf, *len);
	pva_ring_cons_commit(c, pva_msg_record_size(*len));
	return PVA_RING_OK;
}

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(pva_msg_record_size(0), 24);
	assert_int_equal(pva_msg_record_size(1), 32);
	assert_int_equal(pva_msg_record_size(8), 32);
	assert_int_equal(pva_msg_record_size(9), 40);
	assert_int_equal(pva_ring_max_payload(4096), 2048 - 24);
	assert_int_equal(pva_ring_max_payload(1u << 20), PVA_MSG_MAX);
	assert_true(pva_ring_size_valid(4096));
	assert_true(pva_ring_size_valid(16u << 20));
	assert_false(pva_ring_size_valid(2048));
	assert_false(pva_ring_size_valid(6000));
	assert_false(pva_ring_size_valid(32u << 20));
	assert_false(pva_ring_size_valid(0));
	/* a max record is at most half the ring */
	assert_true(pva_msg_record_size(pva_ring_max_payload(4096)) <= 2048);
	assert_int_equal(pva_service_vector(0, 1), 0);
	assert_int_equal(pva_service_vector(0, 8), 1);
	assert_int_equal(pva_service_vector(7, 8), 1);
	assert_int_equal(pva_service_vector(8, 8), 2);
}

static void test_need_event(void **state)
{
	(void)state;
	assert_true(pva_need_event(0, 1, 0));
	assert_false(pva_need_event(5, 5, 0));	/* event not yet passed */
	assert_true(pva_need_event(4, 5, 0));
	assert_false(pva_need_event(0, 10, 5));	/* already passed earlier */
	/* across the 2^32 wrap */
	assert_true(pva_need_event(UINT32_MAX, 3, UINT32_MAX - 2));
	assert_false(pva_need_event(5, 3, UINT32_MAX - 2));
}

static void test_empty_then_one(void **state)
{
	struct pva_ring p, c;
	struct pva_msg_hdr h;
	uint8_t buf[64];
	uint16_t type;
	uint32_t len;

	(void)state;
	setup_ring(&p, &c, RSIZE, 1, 0);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_AGAIN);
	assert_int_equal(pva_ring_cons_arm(&c), PVA_RING_AGAIN);
	/* the armed consumer must be signalled */
	assert_int_equal(produce(&p, 7, "hello", 5), 2);
	assert_int_equal(consume(&c, &type, buf, &len), PVA_RING_OK);
	assert_int_equal(type, 7);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_AGAIN);
	/* not armed again: no signal for the next one */
	assert_int_equal(produce(&p, 8, "x", 1), 0);
}

static void test_wrap_around(void **state)
{
	static uint8_t in[PVA_MSG_MAX], out[PVA_MSG_MAX];
	struct pva_ring p, c;
	uint16_t type;
	uint32_t len;

	(void)state;
	/* every length 0..300 and start offsets all around the ring */
	for (uint32_t start = 0; start < RSIZE; start += 8) {
		setup_ring(&p, &c, RSIZE, 1, start);
		for (uint32_t n = 0; n < 300; n += 37) {
			for (uint32_t i = 0; i < n; i++)
				in[i] = (uint8_t)(start + n + i);
			assert_int_equal(produce(&p, (uint16_t)n, in, n) >= 0, 1);
			assert_int_equal(consume(&c, &type, out, &len), PVA_RING_OK);
			assert_int_equal(type, n);
			assert_int_equal(len, n);
			assert_memory_equal(in, out, n);
		}
	}
}

static void test_index_overflow(void **state)
{
	struct pva_ring p, c;
	uint8_t out[100];
	uint16_t type;
	uint32_t len;

	(void)state;
	/* free-running indexes wrap at 2^32 */
	setup_ring(&p, &c, RSIZE, 1, UINT32_MAX - 100);
	for (int i = 0; i < 50; i++) {
		assert_true(produce(&p, (uint16_t)i, "0123456789", 10) >= 0);
		assert_int_equal(consume(&c, &type, out, &len), PVA_RING_OK);
		assert_int_equal(type, i);
		assert_memory_equal(out, "0123456789", 10);
	}
	assert_true(p.local < 2000);
}

static void test_full_and_backpressure(void **state)
{
	struct pva_ring p, c;
	uint8_t buf[200];
	int n = 0;

	(void)state;
	setup_ring(&p, &c, RSIZE, 1, 0);
	memset(buf, 1, sizeof(buf));
	while (produce(&p, 1, buf, 100) >= 0)
		n++;
	/* 128-byte records: exactly 32 fit in 4096 bytes */
	assert_int_equal(n, RSIZE / 128);
	assert_int_equal(pva_ring_prod_space(&p, 128), PVA_RING_AGAIN);
	assert_int_equal(pva_ring_prod_arm(&p, 128), PVA_RING_AGAIN);
	/*
	 * The armed producer is signalled once, when the consumer has freed
	 * half the ring (16 records of 128 bytes), not at the first record.
	 */
	for (int i = 1; i <= (int)(RSIZE / 128); i++) {
		assert_int_equal(pva_ring_cons_peek(&c, &(struct pva_msg_hdr){ 0 }),
				 PVA_RING_OK);
		assert_int_equal(pva_ring_cons_commit(&c, 128),
				 i == (int)(RSIZE / 2 / 128));
		if (i == 1) {
			assert_int_equal(pva_ring_prod_space(&p, 128), PVA_RING_OK);
			assert_int_equal(pva_ring_prod_space(&p, 136), PVA_RING_AGAIN);
		}
	}
	assert_int_equal(pva_ring_cons_peek(&c, &(struct pva_msg_hdr){ 0 }),
			 PVA_RING_AGAIN);
}

static void test_max_size(void **state)
{
	static uint8_t in[PVA_MSG_MAX], out[PVA_MSG_MAX];
	uint32_t max = pva_ring_max_payload(RSIZE);
	struct pva_ring p, c;
	struct pva_msg_hdr h = { .len = pva_cpu32(max + 1) };
	uint16_t type;
	uint32_t len;

	(void)state;
	for (uint32_t start = 0; start < RSIZE; start += 1024) {
		setup_ring(&p, &c, RSIZE, 0, start);
		for (uint32_t i = 0; i < max; i++)
			in[i] = (uint8_t)(i * 13);
		assert_int_equal(produce(&p, 1, in, max), 2);	/* no event idx */
		assert_int_equal(produce(&p, 1, in, max), 2);	/* two fit */
		assert_int_equal(consume(&c, &type, out, &len), PVA_RING_OK);
		assert_int_equal(len, max);
		assert_memory_equal(in, out, max);
		assert_int_equal(consume(&c, &type, out, &len), PVA_RING_OK);
		assert_memory_equal(in, out, max);
	}
	/* a producer that writes one byte more is caught */
	setup_ring(&p, &c, RSIZE, 1, 0);
	pva_ring_copy_in(&p, 0, &h, sizeof(h));
	pva_ring_prod_commit(&p, pva_msg_record_size(max + 1));
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
}

static void test_hostile_indexes(void **state)
{
	struct pva_ring p, c;
	struct pva_msg_hdr h = { 0 };

	(void)state;
	/* prod more than a ring ahead */
	setup_ring(&p, &c, RSIZE, 1, 0);
	sr.ctrl.prod = pva_cpu32(RSIZE + 8);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	/* prod behind cons */
	sr.ctrl.prod = pva_cpu32((uint32_t)-8);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	/* not a multiple of 8, less than a header */
	sr.ctrl.prod = pva_cpu32(12);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	sr.ctrl.prod = pva_cpu32(16);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	/* a header whose record is longer than what was published */
	h.len = pva_cpu32(100);
	memcpy(sr.data, &h, sizeof(h));
	sr.ctrl.prod = pva_cpu32(64);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	/* huge length */
	h.len = pva_cpu32(0xffffffff);
	memcpy(sr.data, &h, sizeof(h));
	sr.ctrl.prod = pva_cpu32(RSIZE);
	assert_int_equal(pva_ring_cons_peek(&c, &h), PVA_RING_CORRUPT);
	/* consumer index ahead of the producer, or more than a ring behind */
	setup_ring(&p, &c, RSIZE, 1, 0);
	sr.ctrl.cons = pva_cpu32(8);
	assert_int_equal(pva_ring_prod_space(&p, 24), PVA_RING_CORRUPT);
	p.local = 2 * RSIZE;
	sr.ctrl.cons = 0;
	assert_int_equal(pva_ring_prod_space(&p, 24), PVA_RING_CORRUPT);
}

static void test_header_checks(void **state)
{
	struct pva_msg_hdr h = { .service = pva_cpu16(3) };

	(void)state;
	assert_true(pva_msg_hdr_valid(&h, 3));
	assert_false(pva_msg_hdr_valid(&h, 2));
	h.flags = pva_cpu16(PVA_MSG_F_REQUEST);
	assert_true(pva_msg_hdr_valid(&h, 3));
	h.flags = pva_cpu16(PVA_MSG_F_RESPONSE);
	assert_true(pva_msg_hdr_valid(&h, 3));
	h.flags = pva_cpu16(PVA_MSG_F_REQUEST | PVA_MSG_F_RESPONSE);
	assert_false(pva_msg_hdr_valid(&h, 3));
	h.flags = pva_cpu16(4);
	assert_false(pva_msg_hdr_valid(&h, 3));
	h.flags = 0;
	h.reserved0 = pva_cpu16(1);
	assert_false(pva_msg_hdr_valid(&h, 3));
	h.reserved0 = 0;
	h.reserved1 = pva_cpu32(1);
	assert_false(pva_msg_hdr_valid(&h, 3));
}

/* ---- two threads: producer and consumer with modelled doorbells ---- */

#define NMSG 200000

struct doorbell {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long rung;
};

static struct doorbell to_consumer = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
static struct doorbell to_producer = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
static unsigned long doorbells_rung;

static void ring_bell(struct doorbell *d)
{
	pthread_mutex_lock(&d->lock);
	d->rung++;
	__atomic_add_fetch(&doorbells_rung, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Sleep until rung after @seen; returns the new count. */
static unsigned long wait_bell(struct doorbell *d, unsigned long seen)
{
	pthread_mutex_lock(&d->lock);
	while (d->rung == seen)
		pthread_cond_wait(&d->cond, &d->lock);
	seen = d->rung;
	pthread_mutex_unlock(&d->lock);
	return seen;
}

static unsigned long bell_count(struct doorbell *d)
{
	unsigned long n;

	pthread_mutex_lock(&d->lock);
	n = d->rung;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static struct pva_ring tp, tc;

static uint32_t msg_len(uint32_t i)
{
	return (i * 2654435761u) % (pva_ring_max_payload(RSIZE) + 1);
}

static void *producer(void *arg)
{
	static uint8_t buf[PVA_MSG_MAX];

	(void)arg;
	for (uint32_t i = 0; i < NMSG; i++) {
		uint32_t len = msg_len(i);
		uint32_t rec = pva_msg_record_size(len);
		struct pva_msg_hdr h = { .len = pva_cpu32(len), .req_id = pva_cpu32(i) };

		for (;;) {
			unsigned long seen = bell_count(&to_producer);

			if (pva_ring_prod_space(&tp, rec) == PVA_RING_OK)
				break;
			if (pva_ring_prod_arm(&tp, rec) == PVA_RING_OK)
				break;
			wait_bell(&to_producer, seen);
		}
		for (uint32_t k = 0; k < len; k++)
			buf[k] = (uint8_t)(i + k);
		pva_ring_copy_in(&tp, tp.local, &h, sizeof(h));
		pva_ring_copy_in(&tp, tp.local + sizeof(h), buf, len);
		if (pva_ring_prod_commit(&tp, rec))
			ring_bell(&to_consumer);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	static uint8_t buf[PVA_MSG_MAX];
	long bad = 0;

	(void)arg;
	for (uint32_t i = 0; i < NMSG; i++) {
		struct pva_msg_hdr h;
		uint32_t len;
		int ret;

		for (;;) {
			unsigned long seen = bell_count(&to_consumer);

			ret = pva_ring_cons_peek(&tc, &h);
			if (ret != PVA_RING_AGAIN)
				break;
			if (pva_ring_cons_arm(&tc) == PVA_RING_OK)
				continue;
			wait_bell(&to_consumer, seen);
		}
		if (ret != PVA_RING_OK) {
			bad++;
			break;
		}
		len = pva_le32(h.len);
		pva_ring_cons_read(&tc, 0, buf, len);
		if (pva_le32(h.req_id) != i || len != msg_len(i))
			bad++;
		for (uint32_t k = 0; k < len; k++)
			if (buf[k] != (uint8_t)(i + k))
				bad++;
		if (pva_ring_cons_commit(&tc, pva_msg_record_size(len)))
			ring_bell(&to_producer);
	}
	return (void *)bad;
}

static void test_threads(void **state)
{
	pthread_t pt, ct;
	void *bad;

	(void)state;
	setup_ring(&tp, &tc, RSIZE, 1, UINT32_MAX - 5000);
	alarm(120);	/* a lost wake-up would hang here */
	pthread_create(&ct, NULL, consumer, NULL);
	pthread_create(&pt, NULL, producer, NULL);
	pthread_join(pt, NULL);
	pthread_join(ct, &bad);
	alarm(0);
	assert_int_equal((long)bad, 0);
	/* event indexes suppress most doorbells on a busy ring */
	print_message("%d messages, %lu doorbells\n", NMSG, doorbells_rung);
	assert_true(doorbells_rung < NMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_need_event),
		cmocka_unit_test(test_empty_then_one),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_index_overflow),
		cmocka_unit_test(test_full_and_backpressure),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_hostile_indexes),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
