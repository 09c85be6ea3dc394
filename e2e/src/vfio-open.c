/*
 * vfio-open: open a PCI device through the VFIO API the way a VM manager would, and print its ids from config
 * space. Used by the e2e scenarios inside the QEMU guest, after vfiod moved the device to a VFIO driver.
 *
 *   vfio-open BDF          e.g. vfio-open 0000:00:03.0
 *   vfio-open --hold BDF   the same, then keeps container, group and device open until it is killed, as a running VM
 *                          does (prints "VFIO-OPEN: HOLDING pid=N" once everything is open)
 *   vfio-open --cdev PATH BDF   also opens the device's VFIO cdev (/dev/vfio/devices/vfioN) read-write, as an
 *                          iommufd VM manager would; the open is where the kernel checks the caller's access
 * Every node it opens is printed as "opened=PATH" (container, group, cdev), so a scenario can compare them with
 * the nodes vfiod named.
 *
 * Steps: the IOMMU group from /sys/bus/pci/devices/BDF/iommu_group, a container (/dev/vfio/vfio), the group
 * (/dev/vfio/<group>, must be viable), the group into the container, the type1v2 IOMMU, the device fd
 * (VFIO_GROUP_GET_DEVICE_FD), the config region, and a read of vendor, device and class from it.
 * Prints "key=value" lines (the scenario greps vendor= and device=); exit 0 only if every step worked.
 * It never registers a request eventfd (VFIO_DEVICE_SET_IRQS on VFIO_PCI_REQ_IRQ_INDEX): with --hold, an unbind of
 * the device blocks in the kernel until the holder is gone ("No device request channel registered, blocked until
 * released by user"), which is what e2e/guest/scenario-inuse.sh wants.
 * Build: gcc -O2 -Wall -static -o vfio-open vfio-open.c (e2e/lib/vfiod.sh does it into .cache/e2e/bin).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int fail(const char *what)
{
	fprintf(stderr, "vfio-open: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	int hold = 0, i;
	const char *cdev = NULL;
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[i], "--cdev") == 0 && i + 2 < argc)
			cdev = argv[++i];
		else
			break;
	}
	if (i != argc - 1 || argv[i][0] == '-') {
		fprintf(stderr, "usage: vfio-open [--hold] [--cdev PATH] BDF\n");
		return 2;
	}
	const char *bdf = argv[i];
	char path[PATH_MAX], link[PATH_MAX];

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		return fail(path);
	link[n] = 0;
	const char *group = strrchr(link, '/');
	group = group ? group + 1 : link;
	printf("iommu_group=%s\n", group);

	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	printf("opened=/dev/vfio/vfio\n");
	int api = ioctl(container, VFIO_GET_API_VERSION);
	printf("api_version=%d\n", api);
	if (api != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-open: unexpected VFIO API version %d\n", api);
		return 1;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		fprintf(stderr, "vfio-open: no type1v2 IOMMU support\n");
		return 1;
	}

	char gpath[64];
	snprintf(gpath, sizeof gpath, "/dev/vfio/%.40s", group);
	int g = open(gpath, O_RDWR | O_CLOEXEC);
	if (g < 0)
		return fail(gpath);
	printf("opened=%s\n", gpath);
	struct vfio_group_status status = { .argsz = sizeof status };
	if (ioctl(g, VFIO_GROUP_GET_STATUS, &status))
		return fail("VFIO_GROUP_GET_STATUS");
	int viable = !!(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	printf("group_viable=%d\n", viable);
	if (!viable) {
		fprintf(stderr, "vfio-open: group %s is not viable (a device in it is bound to a host driver)\n", group);
		return 1;
	}
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU");

	int dev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
	struct vfio_device_info info = { .argsz = sizeof info };
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &info))
		return fail("VFIO_DEVICE_GET_INFO");
	printf("device_flags=0x%x pci=%d regions=%u irqs=%u\n", info.flags, !!(info.flags & VFIO_DEVICE_FLAGS_PCI),
	       info.num_regions, info.num_irqs);

	struct vfio_region_info cfg = { .argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return fail("VFIO_DEVICE_GET_REGION_INFO (config)");
	printf("config_region_size=%llu\n", (unsigned long long)cfg.size);
	uint8_t space[16];
	if (pread(dev, space, sizeof space, (off_t)cfg.offset) != (ssize_t)sizeof space)
		return fail("pread config space");
	unsigned vendor = space[0] | space[1] << 8, device = space[2] | space[3] << 8;
	unsigned class = space[9] | space[10] << 8 | space[11] << 16;
	printf("vendor=0x%04x\ndevice=0x%04x\nclass=0x%06x\n", vendor, device, class);

	int cfd = -1;
	if (cdev) {
		cfd = open(cdev, O_RDWR | O_CLOEXEC);
		if (cfd < 0)
			return fail(cdev);
		printf("opened=%s\n", cdev);
	}

	if (hold) {
		printf("VFIO-OPEN: HOLDING pid=%d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			pause();   /* until a signal kills it; SIGTERM and SIGKILL keep their default action */
	}
	if (cfd >= 0)
		close(cfd);
	close(dev);
	close(g);
	close(container);
	printf("VFIO-OPEN: OK\n");
	return 0;
}
