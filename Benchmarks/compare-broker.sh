#!/bin/bash
# Console broker throughput (issue 5), side by side in one run. One QEMU (the test guest, TCG, q35)
# `dd`s a fixed pattern down a virtio-serial port whose chardev is a UNIX socket QEMU listens on;
# every case connects something to that socket and times what arrives, first byte to last:
#   (a) one reader connected straight to QEMU's socket: the limit
#   (b) ChardevBroker on QEMU's socket, one reader on its BrokerListener socket   goal >= 0.9x (a)
#   (c) the same with 8 readers, per reader (the slowest of each round)           goal >= 0.8x (a)
#   (d) the broker's log writer, no reader, virtlogd's rotation (2 MiB x 3)
#   (e) the same with one log file that never rotates (checked to hold every byte)
#   (f) log (2 MiB x 3) and one reader: what virtkitd runs
# Readers are plain blocking read(2) loops that check every byte; bytes the broker dropped for a
# reader that fell behind (its gaps) are counted as lost and make the goal FAIL. Prints the medians
# of R interleaved rounds (MiB/s), the ratios to (a), PASS/FAIL, the CPU split (broker, readers,
# QEMU) and context switches per MiB. Prints figures, never asserts: exits 0 unless it could not
# run. QEMU is killed and its temp dir removed on every way out, Ctrl-C included.
#
# Usage: Benchmarks/compare-broker.sh [--no-build] [--mib N] [--runs R] [--readers K] [--cases LIST]
#                                     [--queue-kib Q] [--qemu PATH] [--guest DIR]
#   --no-build   run .build/release/virtkit-bench as it is
#   --mib N      MiB per run (default 256); --runs R rounds (default 5); --readers K for (c) (default 8)
#   --cases LIST e.g. a,b (default a,b,c,d,e,f); --queue-kib Q the brokers' client queue limit
#                (default: the broker's own, 256 KiB), to see how much buffering the readers need
#   Builds first: swift build -c release --product virtkit-bench, under
#   `flock ${VIRTKIT_BUILD_LOCK:-/tmp/virtkit-build.lock}` (other builds may share the machine).
# Needs: qemu-system-x86 (qemu-system-x86_64) and the test guest (Scripts/build-test-guest.sh).
# Takes about a minute with the defaults (boot and a 256 MiB data file in the guest: ~15 s).
set -uo pipefail
cd "$(dirname "$0")/.."

build=1 args=()
for arg in "$@"; do
    case "$arg" in
        --no-build) build="" ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$arg") ;;
    esac
done

if [ -n "$build" ]; then
    lock=${VIRTKIT_BUILD_LOCK:-/tmp/virtkit-build.lock}
    if command -v flock >/dev/null; then
        flock "$lock" swift build -c release --product virtkit-bench >/tmp/compare-broker-build.$$ 2>&1
    else
        swift build -c release --product virtkit-bench >/tmp/compare-broker-build.$$ 2>&1
    fi
    status=$?
    if [ $status -ne 0 ]; then
        tail -30 /tmp/compare-broker-build.$$ >&2
        rm -f /tmp/compare-broker-build.$$
        echo "compare-broker: the release build of virtkit-bench failed" >&2
        exit 1
    fi
    rm -f /tmp/compare-broker-build.$$
fi
bench=.build/release/virtkit-bench
[ -x "$bench" ] || { echo "compare-broker: no $bench (run without --no-build)" >&2; exit 1; }
exec "$bench" broker "${args[@]}"
