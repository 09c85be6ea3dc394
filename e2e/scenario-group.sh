#!/usr/bin/env bash
# e2e/scenario-group.sh: scenario 3, an IOMMU group of two endpoints. The guest gets a PCIe-to-PCI bridge at 00:06.0
# with two conventional-PCI e1000 behind it (one IOMMU group: bridge + both e1000; the multifunction e1000e pair at
# one slot lands in two groups under QEMU's intel-iommu, so it cannot serve). In the guest (e2e/guest/scenario-group.sh),
# with the real system bus, polkitd and vfiod: Rebind of one e1000 without group is refused with
# org.vfiod1.Error.GroupNotViable naming the other, Rebind with group moves both to vfio-pci (the bridge keeps its
# driver) and makes /dev/vfio/<group>, Restore with group gives both back to e1000.
# Exit 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-group.console.log, e2e/logs/<kver>/scenario-group.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
vfiod_e2e_prepare || exit 1
t0=$(e2e_now)
E2E_NAME=scenario-group e2e_boot "$E2E_DIR/guest/scenario-group.sh" \
    -device pcie-pci-bridge,id=v2-br,bus=pcie.0,addr=06.0 \
    -device e1000,bus=v2-br,addr=1,romfile= -device e1000,bus=v2-br,addr=2,romfile=
rc=$?
vfiod_e2e_summary scenario-group "$t0" "$rc"
