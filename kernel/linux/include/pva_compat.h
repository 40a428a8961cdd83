/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels pva supports (6.1 to the newest), in one
 * place so that the drivers need no version checks of their own.
 */
#ifndef PVA_COMPAT_H
#define PVA_COMPAT_H

#include <linux/module.h>
#include <linux/version.h>

/* pva_core's exports live in the PVA symbol namespace. 6.13 made the
 * namespace argument a string literal.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, "PVA")
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS("PVA")
#else
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, PVA)
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS(PVA)
#endif

#endif /* PVA_COMPAT_H */
