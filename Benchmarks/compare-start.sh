#!/bin/bash
# "define + start until QMP answers", side by side, on one self-contained TCG domain (q35, 128 MiB,
# the test guest kernel/initrd, a serial pty, a virtio guest-agent channel, user networking):
#   virtkit   `virtkit define` + `virtkit start` against a private virtkitd (start returns after
#             QMP answered, query-chardev and cont)
#   bare      qemu-system-x86_64 spawned with the argv of `virtkit domxml-to-native qemu-argv
#             --lines` (libvirt paths moved into a temp dir), timed until a QMP client has the
#             greeting, qmp_capabilities, query-status and cont answered (the argv has -S)
#   libvirt   libvirt 9.0's `virsh define` + `virsh start` against a private libvirtd (+ virtlogd)
#             in a private mount namespace (/etc, /run, /var/{lib,cache,log}/libvirt bind-mounted
#             from a temp dir; UNIX sockets only; QEMU as root, security_driver "none")
# Each column's runtime files (virtkitd's run directory, libvirt's /run/libvirt, bare QEMU's
# sockets) are on a tmpfs (/dev/shm), as /run is on a host; definitions and logs on the disk.
# Prints the median, 25th percentile and min of each over N interleaved runs (default 60; one
# untimed warm-up each first, which also lets libvirtd probe QEMU; every timed run follows an
# untimed bare QEMU start, and rounds alternate which of virtkit and bare comes right after
# libvirt) and the ratios virtkit/libvirt (goal <= 0.5) and virtkit/bare (goal <= 1.2; the goal is
# judged on the medians, printed with a 90% bootstrap interval: with 30 runs the ratio moved by
# +-0.1 between runs of the same code, hence the default of 60). About one run in five of either
# column hits QEMU's slow first touch of guest memory (transparent huge pages, 100-200 ms more):
# the p25 and min show the rest.
# BENCH_RAW=1 also prints every run. Prints figures, never asserts; exits 0 unless something could
# not run.
#
# Usage: Benchmarks/compare-start.sh [--runs N] [--bin DIR]   (60 runs: about 5 min)
#   Build first: swift build -c release (virtkit, virtkit-cli and virtkitd)
#   (uses .build/release, else .build/debug, unless --bin DIR). Run as root.
# Needs: qemu-system-x86 (qemu-system-x86_64), python3, util-linux (unshare), the test guest
#   (Scripts/build-test-guest.sh); for the libvirt column the Debian packages libvirt-daemon
#   (/usr/sbin/libvirtd, /usr/sbin/virtlogd), libvirt-daemon-driver-qemu and libvirt-clients (virsh).
#   Without libvirtd the libvirt column is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
helper="$repo/Benchmarks/compare-start.py"
bench=compare-start
. "$repo/Benchmarks/bench-common.sh"
bench_parse_args 60 "$@"
bench_setup

bench_write_domain
mkdir -p "$T/res"
"$VK" domxml-to-native qemu-argv "$XML" --lines >"$T/argv" 2>"$T/argv.err" \
    || fail "virtkit domxml-to-native failed: $(cat "$T/argv.err")"
bench_start_virtkitd
bench_start_libvirtd

# --- one run of each ----------------------------------------------------------------------------
# Every timed run starts from the same machine state: the previous run's QEMU gone, then one
# untimed bare QEMU start and quit. Without it, whichever column ran right after libvirt's destroy
# took 150-200 ms longer, with the machine idle in between: perf shows that QEMU's first page
# faults got transparent huge pages (freed by libvirt's exited guest, which ran longer) and spent
# the time zeroing them (clear_page_erms under do_huge_pmd_anonymous_page). The effect can outlast
# one QEMU start: hence also the alternating order below.
settle() {
    local _
    for _ in $(seq 100); do pgrep -f -- "-name guest=$NAME," >/dev/null || break; sleep 0.05; done
    python3 "$helper" bare "$T/argv" "$R/bare" >/dev/null 2>&1
}
# The timed commands' output goes to descriptors 3 (/dev/null) and 4 ($T/err) opened before the
# clock starts: `2>"$T/err"` would have the shell truncate a file on ext4 inside the interval,
# which the bare column (its files opened before its clock) does not pay.
run_virtkit() {  # appends ns to res/virtkit.ns when $1 = timed
    local t0 tm t1 rc try
    for try in 1 2 3; do  # a run whose define or start lost its connection is repeated
        settle
        exec 3>/dev/null 4>"$T/err"  # opened before the clock starts
        stamp t0
        "$VK" define "$XML" >&3 2>&4 && { stamp tm; "$VK" start "$NAME" >&3 2>&4; }
        rc=$? ; stamp t1
        exec 3>&- 4>&-
        vk_remove
        [ $rc = 0 ] && break
        grep -q "lost connection" "$T/err" || break
        vk_lost=$((vk_lost + 1))
    done
    [ $rc = 0 ] || fail "virtkit define/start failed: $(cat "$T/err")"
    if [ "$1" = timed ]; then
        echo $(( (t1 - t0) * 1000 )) >>"$T/res/virtkit.ns"
        echo $(( (tm - t0) * 1000 )) $(( (t1 - tm) * 1000 )) >>"$T/res/virtkit.split"
    fi
    return 0
}
run_bare() {
    local ns
    settle
    ns=$(python3 "$helper" bare "$T/argv" "$R/bare" 2>"$T/err") || fail "bare QEMU run failed: $(cat "$T/err")"
    [ "$1" = timed ] && echo "$ns" >>"$T/res/bare.ns"
    return 0
}
run_libvirt() {
    local t0 tm t1
    settle
    exec 3>/dev/null 4>"$T/err"
    stamp t0
    "${VIRSH[@]}" define "$XML" >&3 2>&4 && { stamp tm; "${VIRSH[@]}" start "$NAME" >&3 2>&4; }
    local rc=$? ; stamp t1
    exec 3>&- 4>&-
    "${VIRSH[@]}" destroy "$NAME" >/dev/null 2>&1
    "${VIRSH[@]}" undefine "$NAME" >/dev/null 2>&1
    if [ $rc != 0 ]; then
        libvirt_failed="virsh define/start failed: $(tr '\n' ' ' <"$T/err")"
        libvirt_skip=$libvirt_failed
        rm -f "$T/res/libvirt.ns" "$T/res/libvirt.split"
        return 0
    fi
    if [ "$1" = timed ]; then
        echo $(( (t1 - t0) * 1000 )) >>"$T/res/libvirt.ns"
        echo $(( (tm - t0) * 1000 )) $(( (t1 - tm) * 1000 )) >>"$T/res/libvirt.split"
    fi
    return 0
}

echo "binaries: $VK, $VKD"
echo "qemu: $("$QEMU" --version | head -1); libvirt: ${libvirt_skip:+skipped}$( [ -z "$libvirt_skip" ] && virsh --version)"
echo "domain: $NAME (TCG, q35, 128 MiB, kernel+initrd, pty serial, virtio channel, user net); $runs runs each, interleaved, after one warm-up"
run_virtkit warmup; run_bare warmup
[ -z "$libvirt_skip" ] && run_libvirt warmup
# Rounds alternate which of virtkit and bare QEMU comes first after libvirt's run: a libvirt guest's
# exit leaves the next QEMU starts or two slower (see settle), so each gets that place half the time.
for i in $(seq "$runs"); do
    [ -z "$libvirt_skip" ] && run_libvirt timed
    if [ $((i % 2)) = 1 ]; then run_virtkit timed; run_bare timed; else run_bare timed; run_virtkit timed; fi
done
# The floor of any CLI call: a virtkit process that only prints its help.
for _ in 1 2 3 4 5; do stamp t0; "$VK" --help >/dev/null 2>&1; stamp t1; echo $(( (t1 - t0) * 1000 )) >>"$T/res/cli.ns"; done
echo
python3 "$helper" report "$T/res" "$runs"
[ "$vk_lost" -gt 0 ] && echo "note: $vk_lost virtkit call(s) failed with \"lost connection to virtkitd\" and were repeated (not timed)"
[ -n "$libvirt_skip" ] && echo "skipped libvirt: $libvirt_skip"
[ -z "$libvirt_failed" ]  # exit 1 when libvirt is installed but could not run
