// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfiod_test_vfio_pci: a VFIO variant driver for vfiod's end-to-end tests (e2e/scenario-variant.sh).
 *
 * It is vfio-pci under another name: its id table marks the e1000e QEMU emulates (8086:10d3) as override-only
 * for VFIO, so depmod writes "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* vfiod_test_vfio_pci" (5 wildcards,
 * fewer than the vfio_pci catch-all's 7), the kernel never autoloads or auto-binds it, and it binds only through
 * driver_override. Probe registers a vfio_pci_core_device whose ops are the exported vfio_pci_core_* functions.
 *
 * fail_probe (bool, 0644): while set, probe fails with -EIO, so a test can make a real bind fail.
 * probe_delay_ms (uint, 0644, default 0): probe sleeps this long first (msleep, in the driver core's probe, with the
 * device lock held), so the writer of bind/drivers_probe stays in the kernel that long: a window in which a test
 * can kill vfiod between its unbind and the bind (e2e/scenario-crash.sh). fail_probe is checked after the sleep.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

static bool fail_probe;
module_param(fail_probe, bool, 0644);
MODULE_PARM_DESC(fail_probe, "make probe fail with -EIO (for rollback tests)");

static unsigned int probe_delay_ms;
module_param(probe_delay_ms, uint, 0644);
MODULE_PARM_DESC(probe_delay_ms, "sleep this many ms in probe before anything else (for crash tests)");

static int vfiod_test_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(vdev);
	return 0;
}

static const struct vfio_device_ops vfiod_test_ops = {
	.name		= "vfiod-test-vfio-pci",
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= vfiod_test_open_device,
	.close_device	= vfio_pci_core_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
#if IS_ENABLED(CONFIG_IOMMUFD)
	/* a kernel with iommufd refuses to register a vfio_device without these (6.1 has neither; 6.12 as Debian
	 * builds it has CONFIG_IOMMUFD off) */
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
};

static int vfiod_test_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfio_pci_core_device *vdev;
	unsigned int delay = READ_ONCE(probe_delay_ms);
	int ret;

	if (delay) {
		pci_info(pdev, "vfiod_test_vfio_pci: probe_delay_ms is set: sleeping %u ms\n", delay);
		msleep(delay);
		pci_info(pdev, "vfiod_test_vfio_pci: slept %u ms, probing\n", delay);
	}
	if (READ_ONCE(fail_probe)) {
		pci_info(pdev, "vfiod_test_vfio_pci: fail_probe is set: refusing with -EIO\n");
		return -EIO;
	}
	vdev = vfio_alloc_device(vfio_pci_core_device, vdev, &pdev->dev, &vfiod_test_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	dev_set_drvdata(&pdev->dev, vdev);
	ret = vfio_pci_core_register_device(vdev);
	if (ret) {
		vfio_put_device(&vdev->vdev);
		return ret;
	}
	return 0;
}

static void vfiod_test_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(vdev);
	vfio_put_device(&vdev->vdev);
}

static const struct pci_device_id vfiod_test_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x8086, 0x10d3) },	/* QEMU's e1000e (82574L) */
	{}
};
MODULE_DEVICE_TABLE(pci, vfiod_test_ids);

static struct pci_driver vfiod_test_driver = {
	.name			= "vfiod_test_vfio_pci",
	.id_table		= vfiod_test_ids,
	.probe			= vfiod_test_probe,
	.remove			= vfiod_test_remove,
	.err_handler		= &vfio_pci_core_err_handlers,
	.driver_managed_dma	= true,
};
module_pci_driver(vfiod_test_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfiod e2e test: a VFIO variant driver for QEMU's e1000e");
