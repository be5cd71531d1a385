#!/usr/bin/env bash
# Installs the Debian 12 packages benchvm needs: the workloads' tools, the
# kernel source the compile workload builds, QEMU and what guests boot with.
#
#     scripts/install-deps.sh            install what is missing (as root)
#     scripts/install-deps.sh --dry-run  show what apt-get would do (any user)
#
# The QEMU packages come from one source package and must be one release:
# an image may already hold a newer backported qemu-utils (seen: 1:10.0.2
# from bookworm-backports) whose Breaks refuse bookworm's qemu-system-common
# 7.2. The script picks one QEMU release for the whole family (the installed
# one when every package it needs exists in that release, else the release
# of qemu-system-x86's candidate), says in one line what it changes, and
# asks apt-get for exact versions, so the resolver never has to guess.
#
# Not root and something missing: prints the command to run and exits 1.
# For tests, BENCHVM_APT_STATUS names a dpkg status file to plan against
# (a fabricated machine state); it implies --dry-run.
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
    # fetching the guest kernel and the Xen hypervisor (apt-get download, dpkg -x)
    gzip
    # bundles and tests (time: GNU time, peak RSS in scripts/bench-bundle.sh)
    tar zstd git ca-certificates time
    # analyze tests: the HTML report opened in a headless browser
    chromium
    # analyze tests: LaTeX tables and the --paper folder compiled with
    # pdflatex/bibtex in ACM acmart (texlive-publishers; xstring and more
    # from texlive-latex-extra; it falls back to Computer Modern without
    # texlive-fonts-extra's Libertine) and IEEEtran (Times from
    # texlive-fonts-recommended); PDF figures rendered with pdftoppm and
    # read with pdftotext (poppler-utils)
    texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
    texlive-publishers poppler-utils
    # collect import tests: real hyperfine --export-json output (fio is above)
    hyperfine
)

# The QEMU family: binary packages of the source package qemu that benchvm
# installs or that an image may carry beside them.
QEMU_FAMILY=(qemu-utils qemu-system-common qemu-system-data qemu-system-x86
    qemu-system-xen qemu-block-extra qemu-system-gui qemu-system-modules-opengl
    qemu-system-modules-spice)

dry_run=0
[[ "${1:-}" == "--dry-run" ]] && dry_run=1
apt_opts=()
dpkg_opts=()
if [[ -n "${BENCHVM_APT_STATUS:-}" ]]; then
    dry_run=1
    apt_opts=(-o "Dir::State::status=$BENCHVM_APT_STATUS")
    admindir=$(mktemp -d)
    trap 'rm -rf "$admindir"' EXIT
    cp "$BENCHVM_APT_STATUS" "$admindir/status"
    mkdir -p "$admindir/info" "$admindir/updates"
    dpkg_opts=(--admindir="$admindir")
fi
say() { echo "install-deps: $*" >&2; }

# "Version Source-version" of an installed package, or nothing.
installed() {
    dpkg-query "${dpkg_opts[@]}" -W -f='${Status}|${Version}|${source:Version}\n' "$1" 2>/dev/null |
        awk -F'|' '$1 == "install ok installed" { print $2, $3 }' || true
}

# Every version apt knows of a package, as "Version Source-version" lines
# (cached: apt-cache is slow).
declare -A AVAILABLE=()
available() {
    [[ -v AVAILABLE[$1] ]] || AVAILABLE[$1]=$(available_uncached "$1")
    [[ -z "${AVAILABLE[$1]}" ]] || printf '%s\n' "${AVAILABLE[$1]}"
}
available_uncached() {
    apt-cache "${apt_opts[@]}" show "$1" 2>/dev/null | awk '
        /^Version: / { v = $2 }
        /^Source: /  { s = $0 }
        /^$/ { if (v != "") { print v, src(v, s) }; v = ""; s = "" }
        END  { if (v != "") print v, src(v, s) }
        function src(v, s) {
            if (match(s, /\(.*\)/)) return substr(s, RSTART + 1, RLENGTH - 2)
            return v
        }' || true
}

# The version of package $1 built from QEMU source version $2, if any.
version_of_release() {
    available "$1" | awk -v want="$2" '$2 == want { print $1; exit }'
}

candidate() {
    apt-cache "${apt_opts[@]}" policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'
}

# Sets install (package specs for apt-get) and pins (the QEMU family's
# exact versions, when they must change). Quiet when $1 is quiet.
plan() {
    local quiet=${1:-}
    missing=()
    for p in "${PACKAGES[@]}"; do
        [[ -n "$(installed "$p")" ]] || missing+=("$p")
    done

    # One QEMU release for the family.
    needed_qemu=(qemu-system-x86 qemu-system-xen qemu-utils)
    present=()
    releases=()
    for p in "${QEMU_FAMILY[@]}"; do
        line=$(installed "$p")
        [[ -n "$line" ]] || continue
        present+=("$p")
        releases+=("${line#* }")
    done
    mixed=0
    for r in "${releases[@]}"; do [[ "$r" == "${releases[0]}" ]] || mixed=1; done
    pins=()
    if [[ ${#present[@]} -gt 0 ]]; then
        cand=$(candidate qemu-system-x86)
        cand_release=$(available qemu-system-x86 | awk -v v="$cand" '$1 == v { print $2; exit }')
        # Keep the installed release when all of the family exists in it;
        # otherwise move everything to the candidate's release.
        release=""
        for r in $(printf '%s\n' "${releases[@]}" | sort -u) "$cand_release"; do
            ok=1
            for p in "${needed_qemu[@]}" "${present[@]}"; do
                [[ -n "$(version_of_release "$p" "$r")" ]] || { ok=0; break; }
            done
            if [[ $ok -eq 1 ]]; then release=$r; break; fi
        done
        if [[ -z "$release" ]]; then
            say "no QEMU release holds all of ${needed_qemu[*]} ${present[*]}; apt-cache policy qemu-system-x86 qemu-utils shows what the sources offer"
            exit 1
        fi
        changes=()
        local family; mapfile -t family < <(printf '%s\n' "${needed_qemu[@]}" "${present[@]}" | awk '!seen[$0]++')
        for p in "${family[@]}"; do
            want=$(version_of_release "$p" "$release")
            have=$(installed "$p")
            have=${have%% *}
            if [[ -n "$have" && "$have" != "$want" ]]; then
                if dpkg --compare-versions "$have" gt "$want"; then
                    changes+=("downgrades $p $have to $want")
                else
                    changes+=("upgrades $p $have to $want")
                fi
            fi
            pins+=("$p=$want")
        done
        if [[ ${#changes[@]} -gt 0 || $mixed -eq 1 ]]; then
            [[ -n "$quiet" ]] || say "the QEMU packages must be one release (qemu-utils of another release Breaks qemu-system-common); $(IFS=';'; echo "${changes[*]}" | sed 's/;/; /g')"
            missing+=("${pins[@]}")
        else
            pins=()
        fi
    fi

    # Missing QEMU packages get the family's version too.
    install=()
    for m in "${missing[@]}"; do
        skip=0
        for pin in "${pins[@]}"; do [[ "$m" == "${pin%%=*}" ]] && skip=1; done
        [[ $skip -eq 1 ]] || install+=("$m")
    done
    install+=("${pins[@]}")
    # Deduplicate while keeping order.
    mapfile -t install < <(printf '%s\n' "${install[@]}" | awk 'NF && !seen[$0]++')
}

plan quiet
if [[ ${#install[@]} -gt 0 && $dry_run -eq 0 && "$(id -u)" -eq 0 ]]; then
    # Plan against fresh package lists: an older list may name versions
    # the mirror no longer has.
    say "apt-get update"
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; planning with the package lists at hand"
fi
install=()
pins=()
plan
if [[ ${#install[@]} -eq 0 ]]; then
    echo "all ${#PACKAGES[@]} packages present"
    exit 0
fi
flags=(-y -q --no-install-recommends)
[[ ${#pins[@]} -gt 0 ]] && flags+=(--allow-downgrades)
if [[ $dry_run -eq 1 ]]; then
    echo "apt-get install ${flags[*]} ${install[*]}"
    log=$(mktemp)
    if apt-get "${apt_opts[@]}" -s install "${flags[@]}" "${install[@]}" >"$log" 2>&1; then
        say "dry run: apt-get would install $(grep -c '^Inst ' "$log") packages, remove $(grep -c '^Remv ' "$log")"
        rm -f "$log"
        exit 0
    fi
    say "dry run: apt-get refused: $(grep -E '^E: ' "$log" | head -n 1) (full output: $log)"
    exit 1
fi
if [[ "$(id -u)" -ne 0 ]]; then
    say "${#install[@]} packages to install; as root, run:"
    echo "    sudo apt-get install ${flags[*]} ${install[*]}" >&2
    say "or run this script with sudo: sudo $0"
    exit 1
fi
log=$(mktemp /tmp/benchvm-apt.XXXXXX.log)
say "installing ${#install[@]} packages (apt-get output in $log)"
if ! DEBIAN_FRONTEND=noninteractive apt-get install "${flags[@]}" "${install[@]}" >>"$log" 2>&1; then
    reason=$(grep -E '^(E: | .*: (Depends|Breaks|Conflicts):)' "$log" | head -n 3 | tr -s ' ' | paste -sd ';' -)
    say "apt-get could not install ${install[*]}: ${reason:-see $log} (full output: $log)"
    exit 1
fi
say "done"
rm -f "$log"
