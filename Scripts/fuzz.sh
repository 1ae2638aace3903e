#!/bin/bash
# Fuzzes VirtKit's parsers with libFuzzer (the Swift toolchain's -sanitize=fuzzer, with
# AddressSanitizer), each target for a set time, from its seed corpus:
#   FuzzDomain  a domain definition through define, write-back and QEMU's argv
#               (seeds: Tests/ConformanceTests/Cases)
#   FuzzJSON    QMP's and the guest agent's line framing and JSON, written back and read again
#               (seeds: Fuzz/Corpus/FuzzJSON)
#   FuzzLibvirtRPC  a client's stream to the libvirt socket: framing, headers, the connection's
#               state machine, the XDR argument readers (seeds: Fuzz/Corpus/FuzzLibvirtRPC, made
#               from the packets in Tests/Golden/libvirt-rpc)
# A crash, a trap or a leak stops the run: the input is kept in the work directory and the
# script exits non-zero. The corpus a run grows stays in the work directory, not in the repo.
#
# Usage: Scripts/fuzz.sh [--seconds N] [--workdir DIR] [TARGET...]   (default: 60 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60 workdir=/tmp/virtkit-fuzz targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(FuzzDomain FuzzJSON FuzzLibvirtRPC)
seeds() {
    case "$1" in
        FuzzDomain) echo Tests/ConformanceTests/Cases ;;
        FuzzJSON) echo Fuzz/Corpus/FuzzJSON ;;
        FuzzLibvirtRPC) echo Fuzz/Corpus/FuzzLibvirtRPC ;;
        *) echo "fuzz: unknown target '$1'" >&2; exit 2 ;;
    esac
}
flags=(--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
status=0
for target in "${targets[@]}"; do
    seed=$(seeds "$target")
    swift build "${flags[@]}" --product "$target" >/dev/null
    binary="$(swift build "${flags[@]}" --show-bin-path)/$target"
    corpus="$workdir/$target/corpus" artifacts="$workdir/$target/crashes"
    mkdir -p "$corpus" "$artifacts"
    echo "== $target: $seconds s from $seed"
    if ! "$binary" "$corpus" "$seed" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$workdir/$target/log"; then
        echo "fuzz: $target failed; input in $artifacts:" >&2
        grep -E "ERROR|SUMMARY|Fatal|crash|timeout" "$workdir/$target/log" | head -20 >&2
        status=1
    fi
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$workdir/$target/log" || true
done
exit "$status"
