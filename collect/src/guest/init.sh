#!/bin/sh
# benchvm guest init: PID 1 of the initramfs collect builds
# (collect/src/guest/initramfs.rs). It mounts the host's root read-only over
# 9p under a tmpfs overlay, formats the scratch disk, and runs the host's own
# collect binary as the guest agent inside that root. Kernel command line:
#   benchvm.agent=PATH  absolute host path of the collect binary
#   benchvm.job=PATH    absolute host path of the job (JSON)
#   benchvm.probe=1     only start the agent to say it is ready (accel probe)
#   benchvm.p9=xen      the host root comes over Xen 9pfs (trans=xen), not virtio
#   benchvm.scratch=DEV benchvm.results=DEV  the disks' /dev nodes, for disks
#                       without a serial (Xen PV blkfront); default: by serial
#   benchvm.formatted=1 the scratch disk holds a fresh ext4 made by the host
#                       (collect/src/guest/scratch.rs); otherwise it is formatted here
#   benchvm.data=DEV    the read-only data disk's /dev node (default: by serial
#                       benchvm-data, if there is one); its folders are bound
#                       over the host paths its .benchvm-binds file names
# Lines starting with BENCHVM- on the console are read by the host.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

# Each line says the guest's uptime, so a console shows where boot time went.
say() {
    read -r up _ </proc/uptime 2>/dev/null
    echo "benchvm-init: [${up:-?}] $*"
}
die() {
    echo "BENCHVM-INIT-FAILED: $*"
    sync
    poweroff -f
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
    n=$(($1 * 10))
    shift
    until "$@"; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || return 1
        sleep 0.1
    done
}
# disk SERIAL: the /dev node of the virtio disk with that serial.
disk() {
    for d in /sys/block/vd* /sys/block/xvd*; do
        [ -e "$d" ] || continue
        if [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ]; then
            [ -b "/dev/${d##*/}" ] && echo "/dev/${d##*/}" && return 0
        fi
    done
    return 1
}
has_disk() { disk "$1" >/dev/null; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

AGENT= JOB= PROBE= P9=virtio SCRATCH= RESULTS= DATA= FORMATTED=
for w in $(cat /proc/cmdline); do
    case "$w" in
    benchvm.agent=*) AGENT="${w#*=}" ;;
    benchvm.job=*) JOB="${w#*=}" ;;
    benchvm.probe=*) PROBE="${w#*=}" ;;
    benchvm.p9=*) P9="${w#*=}" ;;
    benchvm.scratch=*) SCRATCH="${w#*=}" ;;
    benchvm.results=*) RESULTS="${w#*=}" ;;
    benchvm.data=*) DATA="${w#*=}" ;;
    benchvm.formatted=*) FORMATTED="${w#*=}" ;;
    esac
done
[ -n "$AGENT" ] || die "no benchvm.agent= on the kernel command line"

# The initramfs serves kvm and xen guests alike; each loads only its own
# transport's drivers (under Xen PV every insmod is costly: 28 of them took
# 8.5 s of a domU's boot in the Xen lab).
# (virtio_net's failover helpers go with virtio.)
case "$P9" in
xen) SKIP=virtio OTHER=failover ;;
*) SKIP=xen OTHER=xen ;;
esac
while read -r m; do
    case "$m" in
    *"/$SKIP"* | *"_$SKIP"* | *"$OTHER"*) continue ;;
    esac
    insmod "/lib/modules/$m" 2>/dev/null || say "insmod $m failed (skipped)"
done </etc/benchvm-modules

mkdir -p /newroot /ovl /merged
case "$P9" in
xen) P9OPTS=trans=xen,version=9p2000.L,ro,cache=loose ;;
*) P9OPTS=trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose ;;
esac
say "modules loaded; mounting the host root ($P9)"
wait_for 30 mount -t 9p -o "$P9OPTS" hostroot /newroot ||
    die "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay overlay -o lowerdir=/newroot,upperdir=/ovl/upper,workdir=/ovl/work /merged ||
    die "cannot mount the overlay on the host root"
for fs in proc sys dev; do
    mount -o bind "/$fs" "/merged/$fs" || die "cannot bind /$fs"
done
mkdir -p /merged/dev/pts /merged/dev/shm
mount -t devpts devpts /merged/dev/pts
mount -t tmpfs tmpfs /merged/dev/shm

if [ -n "$PROBE" ]; then
    chroot /merged "$AGENT" guest-agent
    sync
    poweroff -f
fi

if [ -n "$SCRATCH" ] || [ -n "$RESULTS" ]; then
    wait_for 30 test -b "$SCRATCH" || die "no scratch disk $SCRATCH"
    wait_for 30 test -b "$RESULTS" || die "no results disk $RESULTS"
else
    wait_for 10 has_disk benchvm-scratch || die "no scratch disk (serial benchvm-scratch)"
    wait_for 10 has_disk benchvm-results || die "no results disk (serial benchvm-results)"
    SCRATCH=$(disk benchvm-scratch)
    RESULTS=$(disk benchvm-results)
fi
if [ "$FORMATTED" != 1 ]; then
    # The host's mkfs.ext4, from inside its root, as the host makes the
    # template (collect/src/guest/scratch.rs).
    say "formatting the scratch disk $SCRATCH"
    chroot /merged mkfs.ext4 -q -F -L benchvm-scratch \
        -E lazy_itable_init=0,lazy_journal_init=1,nodiscard "$SCRATCH" ||
        die "mkfs.ext4 $SCRATCH failed"
fi
mkdir -p /merged/mnt/benchvm-scratch
mount -t ext4 "$SCRATCH" /merged/mnt/benchvm-scratch || die "cannot mount the scratch disk"

# The data disk: the workloads' inputs on a block device of this guest's
# own, each folder bound over the host path it stands for.
[ -n "$DATA" ] || DATA=$(disk benchvm-data)
if [ -n "$DATA" ]; then
    wait_for 30 test -b "$DATA" || die "no data disk $DATA"
    mkdir -p /data
    mount -t ext4 -o ro "$DATA" /data || die "cannot mount the data disk $DATA"
    n=0
    while read -r sub target; do
        [ -n "$sub" ] && [ -d "/data/$sub" ] || die "data disk: no folder $sub"
        mkdir -p "/merged$target" 2>/dev/null
        mount -o bind "/data/$sub" "/merged$target" || die "data disk: cannot bind $sub over $target"
        n=$((n + 1))
    done </data/.benchvm-binds
    say "data disk $DATA: $n folders bound"
fi

say "starting the agent"
chroot /merged "$AGENT" guest-agent --job "$JOB" --results "$RESULTS" \
    --scratch /mnt/benchvm-scratch
say "agent exited with status $?"
umount /merged/mnt/benchvm-scratch
sync
poweroff -f
