/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Fixed-width little-endian types and byte-order helpers for the pva
 * protocol headers, so one header serves the Linux kernel, Linux userspace
 * and the Windows (mingw-w64) driver and agent.
 */
#ifndef PVA_TYPES_H
#define PVA_TYPES_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/string.h>
#include <asm/byteorder.h>
#include <asm/barrier.h>

#define pva_le16(x)	le16_to_cpu(x)
#define pva_le32(x)	le32_to_cpu(x)
#define pva_le64(x)	le64_to_cpu(x)
#define pva_cpu16(x)	cpu_to_le16(x)
#define pva_cpu32(x)	cpu_to_le32(x)
#define pva_cpu64(x)	cpu_to_le64(x)

/*
 * Ordering against the other side of the shared memory (host or guest);
 * PROTOCOL.md section 4.3 says which access pairs with which.
 */
#define pva_load_acquire(p)	 virt_load_acquire(p)
/* release: earlier accesses are visible before the store */
#define pva_store_release(p, v) virt_store_release(p, v)
/* full: stores before it are ordered before loads after it */
#define pva_full_barrier()	 virt_mb()
/* a single untorn load of a value the other side writes */
#define pva_load_once(p)	 READ_ONCE(*(p))

#else /* userspace: Linux or mingw-w64 */
#include <stdint.h>
#include <string.h>

#if defined(__linux__)
#include <linux/types.h>
#include <endian.h>
#define pva_le16(x)	le16toh(x)
#define pva_le32(x)	le32toh(x)
#define pva_le64(x)	le64toh(x)
#define pva_cpu16(x)	htole16(x)
#define pva_cpu32(x)	htole32(x)
#define pva_cpu64(x)	htole64(x)
#else
/* Windows runs little-endian only. */
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;
#define pva_le16(x)	(x)
#define pva_le32(x)	(x)
#define pva_le64(x)	(x)
#define pva_cpu16(x)	(x)
#define pva_cpu32(x)	(x)
#define pva_cpu64(x)	(x)
#endif

#define pva_load_acquire(p)	 __atomic_load_n(p, __ATOMIC_ACQUIRE)
/* release: earlier accesses are visible before the store */
#define pva_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
/* full: stores before it are ordered before loads after it */
#define pva_full_barrier()	 __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* a single untorn load of a value the other side writes */
#define pva_load_once(p)	 __atomic_load_n(p, __ATOMIC_RELAXED)
#endif

#define PVA_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

#endif /* PVA_TYPES_H */
