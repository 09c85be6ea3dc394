// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfiod_test_edu: a host driver for QEMU's edu device (-device edu, 1234:11e8) for vfiod's end-to-end tests
 * (e2e/scenario-hang.sh). It is an ordinary PCI driver (its id table is not override-only, so depmod writes a
 * plain "pci:v00001234d000011E8..." alias and the kernel binds it to a hot-plugged edu by itself), and its probe()
 * and remove() can be made slow or stuck, the way a real driver's are when its hardware or firmware does not answer:
 *
 * remove_delay_ms (uint, 0644, default 0): remove() sleeps this long (msleep: uninterruptible, with the device lock
 *   held), so an unbind written to sysfs stays in the kernel that long.
 * remove_wait (bool, 0644, default N): remove() waits until a test writes anything to the "release" parameter
 *   (after remove_delay_ms, if both are set). Only a release written after the wait began counts. The wait is
 *   uninterruptible too, but bounded by remove_wait_max_s: the guest's poweroff takes every device lock
 *   (device_shutdown), so a scenario that fails before it releases must not keep its guest from powering off.
 * remove_wait_max_s (uint, 0644, default 300; 0 = no bound): the bound of that wait.
 * release (write: any value; read: how many releases so far): ends every remove() that is waiting now.
 * probe_delay_ms (uint, 0644, default 0): probe() sleeps this long first, so a bind or drivers_probe written to sysfs
 *   stays in the kernel that long.
 * lock_reader (bool, 0644, default N): probe() first publishes a boot_vga attribute in the device's folder whose
 *   read waits for the device lock, so that while probe_delay_ms (or remove) holds the lock a reader of that file
 *   waits in the kernel. It stands for what a hung driver did to readers until the driver core made
 *   driver_override generic (6.12.94: "PCI: use generic driver_override infrastructure", a spinlock instead of the
 *   device lock) and uevent stopped taking the lock (6.11): from then on no attribute of a PCI device that vfiod
 *   reads waits for a hung probe, so scenario-systemd's watchdog step needs this one to wedge vfiod's event worker
 *   in the kernel. The PCI core shows boot_vga only on VGA devices, and vfiod reads it for every PCI device.
 *
 * Each of these logs a line with the device's name when it starts and when it ends ("remove_wait is set: waiting",
 * "released after N ms", "probe_delay_ms is set: sleeping N ms", ...), which the tests wait for in the kernel log.
 * Probe maps BAR0 and logs the edu's identification register, so a bound device is really driven.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/wait.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

static unsigned int remove_delay_ms;
module_param(remove_delay_ms, uint, 0644);
MODULE_PARM_DESC(remove_delay_ms, "remove() sleeps this many ms (an unbind that hangs for a while)");

static bool remove_wait;
module_param(remove_wait, bool, 0644);
MODULE_PARM_DESC(remove_wait, "remove() waits until something is written to the release parameter");

static unsigned int remove_wait_max_s = 300;
module_param(remove_wait_max_s, uint, 0644);
MODULE_PARM_DESC(remove_wait_max_s, "upper bound of the remove_wait wait in seconds (0: none), so a guest can power off");

static unsigned int probe_delay_ms;
module_param(probe_delay_ms, uint, 0644);
MODULE_PARM_DESC(probe_delay_ms, "probe() sleeps this many ms first (a bind that hangs for a while)");

static bool lock_reader;
module_param(lock_reader, bool, 0644);
MODULE_PARM_DESC(lock_reader, "probe() publishes a boot_vga attribute whose read waits for the device lock");

static DECLARE_WAIT_QUEUE_HEAD(release_wq);
static atomic_t releases = ATOMIC_INIT(0);

static int release_set(const char *val, const struct kernel_param *kp)
{
	atomic_inc(&releases);
	wake_up_all(&release_wq);
	pr_info("vfiod_test_edu: release written: every waiting remove() returns\n");
	return 0;
}

static int release_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&releases));
}

static const struct kernel_param_ops release_ops = {
	.set = release_set,
	.get = release_get,
};
module_param_cb(release, &release_ops, NULL, 0644);
MODULE_PARM_DESC(release, "write anything: every remove() waiting because of remove_wait returns");

struct edu {
	void __iomem *regs;
	bool attr;		/* boot_vga published (lock_reader) */
	bool going;		/* boot_vga is being removed: its readers give up */
};

/*
 * Waits for the device lock as driver_override's read did before 6.12.94, but in steps: removing the file while a
 * reader waits for a lock the remover holds would never end (the removal waits for the reader), so the reader gives
 * up once the driver says the file is going.
 */
static ssize_t boot_vga_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct edu *edu = dev_get_drvdata(dev);

	while (!device_trylock(dev)) {
		if (!edu || READ_ONCE(edu->going))
			return -ENODEV;
		msleep(20);
	}
	device_unlock(dev);
	return sysfs_emit(buf, "0\n");
}
static DEVICE_ATTR_RO(boot_vga);

static void edu_attr_remove(struct pci_dev *pdev, struct edu *edu)
{
	if (!edu->attr)
		return;
	WRITE_ONCE(edu->going, true);
	device_remove_file(&pdev->dev, &dev_attr_boot_vga);
	edu->attr = false;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	unsigned int delay = READ_ONCE(probe_delay_ms);
	struct edu *edu;
	int ret;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	pci_set_drvdata(pdev, edu);
	if (READ_ONCE(lock_reader)) {
		ret = device_create_file(&pdev->dev, &dev_attr_boot_vga);
		if (ret)
			return ret;
		edu->attr = true;
		pci_info(pdev, "vfiod_test_edu: lock_reader is set: boot_vga waits for the device lock\n");
	}
	if (delay) {
		pci_info(pdev, "vfiod_test_edu: probe_delay_ms is set: sleeping %u ms\n", delay);
		msleep(delay);
		pci_info(pdev, "vfiod_test_edu: probe slept %u ms, probing\n", delay);
	}
	ret = pci_enable_device(pdev);
	if (ret)
		goto attr;
	ret = pci_request_regions(pdev, "vfiod_test_edu");
	if (ret)
		goto disable;
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto release;
	}
	/* register 0x00 reads 0x010000ed on QEMU's edu: major.minor version and "ed" */
	pci_info(pdev, "vfiod_test_edu: bound (identification 0x%08x)\n", ioread32(edu->regs));
	return 0;

release:
	pci_release_regions(pdev);
disable:
	pci_disable_device(pdev);
attr:
	edu_attr_remove(pdev, edu);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *edu = pci_get_drvdata(pdev);
	unsigned int delay = READ_ONCE(remove_delay_ms);

	if (delay) {
		pci_info(pdev, "vfiod_test_edu: remove_delay_ms is set: sleeping %u ms\n", delay);
		msleep(delay);
		pci_info(pdev, "vfiod_test_edu: remove slept %u ms\n", delay);
	}
	if (READ_ONCE(remove_wait)) {
		int seen = atomic_read(&releases);
		unsigned int max_s = READ_ONCE(remove_wait_max_s);
		unsigned long start = jiffies;
		long left;

		pci_info(pdev, "vfiod_test_edu: remove_wait is set: waiting until released (write to /sys/module/vfiod_test_edu/parameters/release)\n");
		if (max_s) {
			left = wait_event_timeout(release_wq, atomic_read(&releases) != seen, (long)max_s * HZ);
			if (!left)
				pci_warn(pdev, "vfiod_test_edu: not released within %u s: going on\n", max_s);
		} else {
			wait_event(release_wq, atomic_read(&releases) != seen);
		}
		pci_info(pdev, "vfiod_test_edu: released after %u ms\n", jiffies_to_msecs(jiffies - start));
	}
	edu_attr_remove(pdev, edu);
	pci_iounmap(pdev, edu->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	pci_info(pdev, "vfiod_test_edu: removed\n");
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= "vfiod_test_edu",
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};
module_pci_driver(edu_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiod e2e test: a host driver for QEMU's edu device whose probe and remove can hang");
