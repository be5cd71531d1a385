#!/bin/sh
# benchvm lab dom0 init: PID 1 of the dom0 initramfs `collect lab xen`
# builds (collect/src/xen/lab.rs). It mounts the outer host's root read-only
# over virtio 9p under a tmpfs overlay, mounts the writable lab-out share,
# formats the lab's dom0-local disk (disk images of domUs must not live on
# 9p), starts the Xen toolstack daemons and runs /lab-out/lab.sh (written
# by the lab: collect run ...). Lines starting with BENCHVM-LAB- on the
# serial console are read by the lab.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

die() {
    echo "BENCHVM-LAB-FAILED: $*"
    sync
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
    insmod "/lib/modules/$m" 2>/dev/null || echo "benchvm-lab: insmod $m failed (skipped)"
done </etc/benchvm-modules
echo "benchvm-lab: modules loaded at $(cat /proc/uptime)"

mkdir -p /newroot /ovl /merged
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot ||
    die "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay overlay -o lowerdir=/newroot,upperdir=/ovl/upper,workdir=/ovl/work /merged ||
    die "cannot mount the overlay on the host root"
for fs in proc sys dev; do
    mount -o bind "/$fs" "/merged/$fs" || die "cannot bind /$fs"
done
mkdir -p /merged/lab-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labout /merged/lab-out ||
    die "cannot mount the lab-out share (9p tag labout)"

# Everything else runs with the host's own tools, inside its root.
chroot /merged /bin/sh -s <<'DOM0'
fail() { echo "BENCHVM-LAB-FAILED: $*"; exit 1; }
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts || fail "cannot mount devpts"
mount -t tmpfs tmpfs /dev/shm
mount -t xenfs xenfs /proc/xen || fail "cannot mount xenfs: is this a Xen dom0?"
# Not /tmp: the overlay keeps it writable, and a tmpfs there would hide
# a workspace (and the collect binary) that lives under the host's /tmp.
for d in /run /var/lib/xenstored; do
    mkdir -p "$d" && mount -t tmpfs tmpfs "$d"
done
mkdir -p /var/log/xen /var/lib/xen /var/lib/xen/dump /run/xen /run/lock /var/lib/benchvm
disk=
for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = benchvm-labdisk ] && disk="/dev/${b##*/}"
done
[ -n "$disk" ] || fail "no lab disk (virtio serial benchvm-labdisk)"
mkfs.ext4 -q -F -L benchvm-lab "$disk" || fail "mkfs.ext4 $disk failed"
mount -t ext4 "$disk" /var/lib/benchvm || fail "cannot mount $disk"
/usr/sbin/xenstored --pid-file /run/xenstored.pid || fail "xenstored did not start"
init_dom0=$(ls /usr/lib/xen-*/bin/xen-init-dom0 2>/dev/null | head -n 1)
[ -n "$init_dom0" ] || fail "no xen-init-dom0 (apt-get install -y xen-utils-4.17)"
"$init_dom0" || fail "xen-init-dom0 failed"
/usr/sbin/xenconsoled --log=guest --log-dir=/var/log/xen || fail "xenconsoled did not start"
echo "BENCHVM-LAB-READY $(cut -d' ' -f1 /proc/uptime)"
# collect's stdout (bundle path and id) to a file, its log to the console
# through a pipe (not a terminal: no progress bar escapes on the serial).
(/bin/sh /lab-out/lab.sh 2>&1 >/lab-out/run.stdout; echo $? >/lab-out/run.rc) | cat
sync
echo "BENCHVM-LAB-EXIT $(cat /lab-out/run.rc 2>/dev/null || echo missing)"
DOM0
sync
poweroff -f
