// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfiod_test_slow_init: a module whose init sleeps, for vfiod's end-to-end tests (e2e/scenario-hang.sh): a modprobe
 * that hangs in the kernel. Its init runs inside the loader's finit_module() call, so the modprobe process sits in
 * the kernel, uninterruptible, for init_delay_ms (msleep), as with a real driver whose init waits for its firmware or
 * its hardware; no signal ends it sooner.
 *
 * The scenario makes vfio_pci's own load hang with it, through modprobe.d:
 *     softdep vfio_pci pre: vfiod_test_slow_init
 *     options vfiod_test_slow_init init_delay_ms=20000
 * so that `modprobe vfio_pci`, which vfiod runs for a Rebind whose vfio driver is not loaded yet, loads this module
 * first and waits for its init.
 *
 * init_delay_ms (uint, 0444, default 0): how long init sleeps.
 */
#include <linux/delay.h>
#include <linux/module.h>

static unsigned int init_delay_ms;
module_param(init_delay_ms, uint, 0444);
MODULE_PARM_DESC(init_delay_ms, "init sleeps this many ms (a modprobe that hangs in the kernel)");

static int __init slow_init(void)
{
	if (init_delay_ms) {
		pr_info("vfiod_test_slow_init: init_delay_ms is set: sleeping %u ms\n", init_delay_ms);
		msleep(init_delay_ms);
		pr_info("vfiod_test_slow_init: init slept %u ms\n", init_delay_ms);
	}
	return 0;
}

static void __exit slow_exit(void)
{
}

module_init(slow_init);
module_exit(slow_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiod e2e test: a module whose init sleeps");
