#!/bin/bash
# Whole-process time of `virtkit domxml-to-native` against libvirt 9.0's
# `virsh -c qemu:///embed?root=... domxml-to-native` on the same file. Prints figures and the ratio.
# Usage: Benchmarks/compare-virsh.sh [FILE] [RUNS]   (builds virtkit and virtkit-cli in release mode first)
set -euo pipefail
cd "$(dirname "$0")/.."
file=$(readlink -f "${1:-Benchmarks/ten-chardevs.xml}")
runs=${2:-50}
swift build -c release --product virtkit >/dev/null && swift build -c release --product virtkit-cli >/dev/null
virtkit=$(swift build -c release --show-bin-path)/virtkit

# A seeded embedded-driver root (QEMU probed once), reused call after call.
cache=${VIRTKIT_ORACLE_CACHE:-/tmp/virtkit-libvirt-oracle}
python3 Scripts/libvirt-oracle.py "$(mktemp -d)" "$file" >/dev/null
root=$(mktemp -d /tmp/virtkit-bench-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc" "$root/cache/qemu"
cp "$cache/seed/etc/qemu.conf" "$root/etc/"
cp -a "$cache/seed/cache/qemu/capabilities" "$root/cache/qemu/"
export LIBVIRT_LOG_OUTPUTS="1:file:/dev/null"

time_runs() {  # prints total seconds for $runs runs of "$@"
    local start end
    "$@" >/dev/null 2>&1  # warm the page cache
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s%N)
    echo $(( (end - start) / runs ))
}

vk_ns=$(time_runs "$virtkit" domxml-to-native qemu-argv "$file")
lv_ns=$(time_runs virsh -q -c "qemu:///embed?root=$root" domxml-to-native qemu-argv --xml "$file")
python3 - "$vk_ns" "$lv_ns" "$runs" "$file" <<'PY'
import sys
vk, lv, runs, f = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"file: {f}, {runs} runs each")
print(f"virtkit domxml-to-native: {vk/1e6:8.2f} ms/process")
print(f"virsh (embed) domxml-to-native: {lv/1e6:8.2f} ms/process")
ratio = vk / lv
print(f"ratio virtkit/virsh: {ratio:.3f} (goal <= 0.2: {'met' if ratio <= 0.2 else 'NOT met'})")
PY
