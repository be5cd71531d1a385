#!/usr/bin/env bash
# Installs the Debian 12 packages benchvm needs: the workloads' tools, the
# kernel source the compile workload builds, QEMU and what guests boot with.
# As root it runs apt-get; otherwise it prints the line to run.
set -euo pipefail

PACKAGES=(
    # workloads
    sysbench fio stress-ng iperf3 nginx-light
    # isolation experiment: network namespaces, bridges and taps
    iproute2
    # kernel compile
    linux-source-6.1 make gcc bc flex bison libelf-dev libssl-dev xz-utils
    # environment capture
    util-linux pciutils dmidecode numactl
    # guests (KVM platform under QEMU)
    qemu-system-x86 qemu-utils busybox-static kmod cpio e2fsprogs
    # Xen platform and its lab (a Xen host under QEMU): xl and the daemons
    # dom0 runs from the host's root, and the device model serving 9pfs
    xen-utils-4.17 qemu-system-xen
    # bundles and tests (time: GNU time, peak RSS in scripts/bench-bundle.sh)
    tar zstd git ca-certificates time
    # analyze tests: the HTML report opened in a headless browser
    chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "all ${#PACKAGES[@]} packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages; install them with:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
