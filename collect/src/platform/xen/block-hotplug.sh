#!/bin/sh
# benchvm block hotplug script, written by collect (collect/src/xen/data_disk.rs)
# for the guests' read-only data disk, named in each domU's xl.cfg (disk =
# [..., script=]). libxl runs it in dom0 with the action as $1 and the
# disk's backend node as XENBUS_PATH. On add it tells blkback which block
# device to serve, as Xen's own `block` script does (write_dev:
# physical-device = MAJOR:MINOR in hex, then hotplug-status = connected),
# without that script's sharing checks and locks: the device is shared
# read-only by collect's own domUs, and in the Xen lab those checks ran
# past libxl's hotplug timeout. remove needs nothing.
LOG=@LOG@
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec >>"$LOG" 2>&1
echo "$(date +%T) $1 XENBUS_PATH=${XENBUS_PATH:-}"
case "$1" in
add)
    dev=
    why=
    if [ -z "${XENBUS_PATH:-}" ]; then
        why="XENBUS_PATH not set"
    elif ! dev=$(xenstore-read "$XENBUS_PATH/params"); then
        why="no params under $XENBUS_PATH"
    elif ! mm=$(stat -L -c %t:%T "$dev"); then
        why="$dev is not there"
    fi
    if [ -n "$why" ]; then
        echo "failed: $why"
        [ -n "${XENBUS_PATH:-}" ] && xenstore-write "$XENBUS_PATH/hotplug-error" "$why" \
            "$XENBUS_PATH/hotplug-status" error
        exit 1
    fi
    xenstore-write "$XENBUS_PATH/physical-device" "$mm" \
        "$XENBUS_PATH/physical-device-path" "$dev" \
        "$XENBUS_PATH/hotplug-status" connected || exit 1
    echo "$dev ($mm) connected"
    ;;
*)
    echo "nothing to do"
    ;;
esac
exit 0
