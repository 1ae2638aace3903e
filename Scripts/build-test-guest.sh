#!/bin/bash
# Builds the tiny test guest that VirtKit's runtime tests and demo boot:
#   OUTDIR/vmlinux     uncompressed ELF kernel (QEMU -kernel boots it via PVH, no decompressor)
#   OUTDIR/initrd.img  uncompressed cpio initramfs: busybox, virtio modules, qemu-ga, Scripts/guest/rootfs
# from Debian packages only (linux-image-amd64, busybox-static, qemu-guest-agent), fetched with
# `apt-get download` into OUTDIR/.debs and unpacked in a temporary directory: nothing is
# installed system-wide beyond what Scripts/setup.sh installs.
#
# Usage: Scripts/build-test-guest.sh [OUTDIR]
#   OUTDIR defaults to $VIRTKIT_GUEST_DIR, else /var/cache/virtkit/guest.
# Does nothing when both outputs exist and are newer than this script and Scripts/guest/.
# Concurrent runs serialise on OUTDIR/.lock; outputs are replaced by rename, never half-written.
#
# Guest contract: prints `VIRTKIT-GUEST-READY` on ttyS0 when up, then a root shell on ttyS0;
# virtio port org.example.echo answers each line L with "ECHO:" + upper-case(L);
# qemu-ga serves org.qemu.guest_agent.0; ACPI power button and guest-shutdown power off;
# every NIC asks DHCP (user-mode networking: 10.0.2.15/24 via 10.0.2.2; eth0 falls back to it).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
GUEST="$(dirname "$SCRIPT")/guest"
OUT=${1:-${VIRTKIT_GUEST_DIR:-/var/cache/virtkit/guest}}
MSG=build-test-guest

die() { echo "$MSG: error: $*" >&2; exit 1; }

up_to_date() {
    local f
    for f in vmlinux initrd.img; do
        [ -s "$OUT/$f" ] || return 1
        [ -z "$(find "$SCRIPT" "$GUEST" -newer "$OUT/$f" -print -quit)" ] || return 1
    done
}

[ -d "$GUEST/rootfs" ] && [ -f "$GUEST/modules" ] || die "guest files missing: $GUEST"
if up_to_date; then
    echo "$MSG: up to date: $OUT/vmlinux $OUT/initrd.img"
    exit 0
fi

missing=()
for tool in apt-get apt-cache dpkg-deb depmod modprobe cpio xz ldd flock find grep od; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (run Scripts/setup.sh as root)"

mkdir -p "$OUT" || die "cannot create $OUT"
exec 9>>"$OUT/.lock" || die "cannot open $OUT/.lock (not writable; run as root or pass OUTDIR)"
flock -w 900 9 || die "timed out waiting for another build holding $OUT/.lock"
if up_to_date; then   # another run built it while we waited
    echo "$MSG: up to date: $OUT/vmlinux $OUT/initrd.img"
    exit 0
fi

start=$(date +%s%N)
rm -rf "$OUT"/.build.*   # left by an interrupted build; we hold the lock
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP
ROOT="$WORK/root"

# --- Debian packages, cached in OUTDIR/.debs ------------------------------------------------
DEBS="$OUT/.debs"
mkdir -p "$DEBS"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
pkgs=(busybox-static qemu-guest-agent)
[ -n "$kpkg" ] && pkgs=("$kpkg" "${pkgs[@]}")
declare -A deb=()
if [ -n "$kpkg" ] && uris=$(apt-get download --print-uris "${pkgs[@]}" 2>/dev/null) && [ -n "$uris" ]; then
    want=()
    while read -r _ file _; do
        name=${file%%_*}
        deb[$name]=$DEBS/$file
        [ -s "$DEBS/$file" ] || want+=("$name")
    done <<<"$uris"
    if [ ${#want[@]} -gt 0 ]; then
        echo "$MSG: downloading ${want[*]}"
        (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${want[@]}") ||
            die "apt-get download ${want[*]} failed (network? run Scripts/setup.sh, which runs apt-get update)"
    fi
    # Drop superseded versions.
    for f in "$DEBS"/*.deb; do
        keep=
        for k in "${deb[@]}"; do [ "$f" = "$k" ] && keep=1; done
        [ -n "$keep" ] || rm -f "$f"
    done
else
    # No package lists or no network: fall back to whatever was downloaded before.
    echo "$MSG: warning: apt cannot resolve the packages; using cached .debs in $DEBS" >&2
    kdeb=$(ls "$DEBS"/linux-image-[0-9]*.deb 2>/dev/null | tail -1) || true
    [ -n "$kdeb" ] || die "cannot resolve linux-image-amd64 and nothing cached in $DEBS (run Scripts/setup.sh, which runs apt-get update)"
    kpkg=$(basename "${kdeb%%_*}")
    deb[$kpkg]=$kdeb
    for p in busybox-static qemu-guest-agent; do
        deb[$p]=$(ls "$DEBS/${p}_"*.deb 2>/dev/null | tail -1) || true
    done
fi
for p in "$kpkg" busybox-static qemu-guest-agent; do
    [ -s "${deb[$p]:-}" ] || die "package $p not available (run Scripts/setup.sh, which runs apt-get update)"
done

# --- kernel: vmlinux + modules --------------------------------------------------------------
mkdir -p "$WORK/k" "$WORK/bb" "$WORK/ga"
dpkg-deb -x "${deb[$kpkg]}" "$WORK/k" || die "cannot unpack ${deb[$kpkg]}"
vmlinuz=$(ls "$WORK"/k/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in ${deb[$kpkg]}"
kver=${vmlinuz##*/vmlinuz-}

# Same as the kernel's scripts/extract-vmlinux: find the xz stream, decompress, check for ELF.
extract_vmlinux() {
    local off
    for off in $(grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
        # (xz stops at the end of the stream, so tail may die of SIGPIPE: not a pipeline here)
        if xz -dcq --single-stream < <(tail -c +$((off + 1)) "$vmlinuz") >"$WORK/vmlinux" 2>/dev/null &&
            [ "$(od -An -tx1 -N4 "$WORK/vmlinux" | tr -d ' ')" = 7f454c46 ]; then
            return 0
        fi
    done
    return 1
}
extract_vmlinux &   # overlaps with depmod below (two cores)
xzpid=$!

mods=$WORK/k/lib/modules/$kver
if [ ! -d "$mods" ] && [ -d "$WORK/k/usr/lib/modules/$kver" ]; then
    mkdir -p "$WORK/k/lib" && ln -s ../usr/lib/modules "$WORK/k/lib/modules"
fi
[ -d "$mods" ] || die "no modules for $kver in ${deb[$kpkg]}"
depmod -b "$WORK/k" "$kver" || die "depmod failed"
mapfile -t names < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$GUEST/modules")
deps=$(modprobe -d "$WORK/k" -S "$kver" --show-depends -a "${names[@]}") ||
    die "modprobe --show-depends ${names[*]} failed"
mkdir -p "$ROOT/lib/modules" "$ROOT/etc"
: >"$ROOT/etc/modules.load"
for ko in $(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$deps"); do
    base=$(basename "$ko")
    case "$ko" in
        *.ko.xz) xz -dc "$ko" >"$ROOT/lib/modules/${base%.xz}"; base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$ko" >"$ROOT/lib/modules/${base%.zst}"; base=${base%.zst} ;;
        *.ko.gz) gzip -dc "$ko" >"$ROOT/lib/modules/${base%.gz}"; base=${base%.gz} ;;
        *) cp "$ko" "$ROOT/lib/modules/$base" ;;
    esac
    echo "$base" >>"$ROOT/etc/modules.load"
done
echo "$kver" >"$ROOT/etc/virtkit-kernel"

# --- busybox ---------------------------------------------------------------------------------
dpkg-deb -x "${deb[busybox-static]}" "$WORK/bb" || die "cannot unpack ${deb[busybox-static]}"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,mnt,var/log}
cp "$WORK/bb/bin/busybox" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list-full); do
    case "$applet" in */*) ;; *) continue ;; esac   # skips /linuxrc
    [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
ln -s ../run "$ROOT/var/run"

# --- qemu-ga with the shared libraries it needs -----------------------------------------------
dpkg-deb -x "${deb[qemu-guest-agent]}" "$WORK/ga" || die "cannot unpack ${deb[qemu-guest-agent]}"
ga=$WORK/ga/usr/sbin/qemu-ga
[ -x "$ga" ] || die "no usr/sbin/qemu-ga in ${deb[qemu-guest-agent]}"
cp "$ga" "$ROOT/usr/sbin/qemu-ga"
lddout=$(ldd "$ga") || die "ldd $ga failed"
if grep -q 'not found' <<<"$lddout"; then
    die "qemu-ga needs libraries not installed here (run Scripts/setup.sh):
$(grep 'not found' <<<"$lddout")"
fi
for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$lddout"); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done

# --- guest files (override busybox links of the same name) ------------------------------------
(cd "$GUEST/rootfs" && find . ! -type d) | while read -r f; do
    mkdir -p "$ROOT/$(dirname "$f")"
    rm -f "$ROOT/$f"
    cp -P --preserve=mode "$GUEST/rootfs/$f" "$ROOT/$f"
done
chmod 755 "$ROOT/init"

# Uncompressed on purpose: under TCG the kernel takes over a second to gunzip even this small an
# image, while QEMU hands the 9 MB to the guest almost for free.
(cd "$ROOT" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd.img" ||
    die "cpio failed"

wait "$xzpid" || die "no xz-compressed ELF kernel found in $vmlinuz"

chmod 644 "$WORK/vmlinux" "$WORK/initrd.img"
mv -f "$WORK/vmlinux" "$OUT/vmlinux"
mv -f "$WORK/initrd.img" "$OUT/initrd.img"
ms=$((($(date +%s%N) - start) / 1000000))
printf '%s: built %s/vmlinux (%d MB, kernel %s) and initrd.img (%d KB) in %d.%d s\n' "$MSG" "$OUT" \
    $(($(stat -c %s "$OUT/vmlinux") / 1048576)) "$kver" $(($(stat -c %s "$OUT/initrd.img") / 1024)) \
    $((ms / 1000)) $((ms % 1000 / 100))
