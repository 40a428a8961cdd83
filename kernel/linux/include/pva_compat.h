/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels pva supports (6.1 to the newest), in one
 * place so that the drivers need no version checks of their own.
 */
#ifndef PVA_COMPAT_H
#define PVA_COMPAT_H

#include <linux/module.h>

/*
 * pva_core's exports live in the PVA symbol namespace. Kernels before 6.13
 * take the namespace as an identifier, later ones as a string; Kbuild
 * defines PVA_NS_IDENTIFIER by looking at the kernel's module.h.
 */
#ifdef PVA_NS_IDENTIFIER
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, PVA)
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS(PVA)
#else
#define PVA_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, "PVA")
#define PVA_IMPORT_NS()		MODULE_IMPORT_NS("PVA")
#endif

#endif /* PVA_COMPAT_H */
