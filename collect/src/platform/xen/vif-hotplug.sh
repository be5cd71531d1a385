#!/bin/sh
# benchvm vif hotplug script, written by collect (collect/src/xen/vif.rs)
# for one isolation run, named in each domU's xl.cfg (vif = [..., script=]).
# libxl runs it in dom0 with the action as $1 (online/offline for a PV vif)
# and vif (the backend device, vifDOMID.DEVID) and XENBUS_PATH (its backend
# node) in the environment, as it runs Xen's own vif-bridge. On online/add
# it moves the vif into the run's network namespace, enslaves it to the
# bridge there and sets it up, then reports hotplug-status = connected
# under XENBUS_PATH as xen-hotplug-common.sh's success() does (netback
# waits for that before it connects the guest). offline/remove need
# nothing: the vif goes with its domain, the namespace with the run.
NETNS=@NETNS@
BRIDGE=@BRIDGE@
LOG=@LOG@
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec >>"$LOG" 2>&1
echo "$(date +%T) $1 vif=${vif:-} XENBUS_PATH=${XENBUS_PATH:-}"
case "$1" in
online | add)
    why=
    if [ -z "${vif:-}" ] || [ -z "${XENBUS_PATH:-}" ]; then
        why="vif or XENBUS_PATH not set"
    elif ! ip link set dev "$vif" netns "$NETNS"; then
        why="cannot move $vif into namespace $NETNS"
    elif ! ip -n "$NETNS" link set dev "$vif" master "$BRIDGE"; then
        why="cannot add $vif to $BRIDGE in $NETNS"
    elif ! ip -n "$NETNS" link set dev "$vif" up; then
        why="cannot set $vif up in $NETNS"
    fi
    if [ -n "$why" ]; then
        echo "failed: $why"
        [ -n "${XENBUS_PATH:-}" ] && xenstore-write "$XENBUS_PATH/hotplug-error" "$why" \
            "$XENBUS_PATH/hotplug-status" error
        exit 1
    fi
    xenstore-write "$XENBUS_PATH/hotplug-status" connected || exit 1
    echo "$vif on $BRIDGE in $NETNS, connected"
    ;;
*)
    echo "nothing to do"
    ;;
esac
exit 0
