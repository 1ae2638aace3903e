#!/bin/bash
# libvirt's own clients against virtkitd's libvirt socket and against a private libvirtd 9.0, side
# by side on the same TCG domain (Benchmarks/bench-common.sh: q35, 128 MiB, the test guest, a pty
# serial, a guest agent channel, user networking):
#   warm calls   python3-libvirt on one open connection: getLibVersion (one round trip answered
#                with a constant: what the client and the socket cost), lookupByName + info, and
#                qemuMonitorCommand(query-status) (Benchmarks/compare-libvirt-rpc.py)
#   dominfo      whole-process `virsh dominfo NAME` (connect, lookup, six calls, close)
#   start        whole-process `virsh start NAME` from shut off, answered once the domain runs
#                (each followed by an untimed `virsh destroy`)
# Both daemons run as bench-common.sh starts them; virtkitd serves libvirt's protocol on
# libvirt-sock in its run directory. A third party, Benchmarks/libvirt-floor-server.c (built with
# gcc), answers every call at once: its getLibVersion round trip is what the client and the socket
# cost with no server work at all (the floor). Prints the median and 25th percentile of each, the
# ratios virtkit/libvirt (goals: warm calls <= 0.5, start <= 0.5) and, for the warm calls, the
# servers' own shares compared, (virtkit - floor) / (libvirt - floor), with the floor counted
# once per round trip (2 for lookupByName+info, 1 for the others). Prints figures, never asserts.
#
# Usage: Benchmarks/compare-libvirt-rpc.sh [--runs N] [--bin DIR]   (default 200 warm calls,
#   N/10 whole-process runs; about 3 min). Build first: swift build -c release --product virtkitd
#   (and virtkit, virtkit-cli). Run as root. Needs python3-libvirt and what compare-start.sh needs.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bench=compare-libvirt-rpc
. "$repo/Benchmarks/bench-common.sh"
bench_parse_args 200 "$@"
bench_setup
[ -z "$libvirt_skip" ] || fail "this benchmark needs libvirtd: $libvirt_skip"
/usr/bin/python3 -c "import libvirt" 2>/dev/null || fail "install python3-libvirt"
bench_write_domain
bench_start_virtkitd
bench_start_libvirtd
[ -z "$libvirt_skip" ] || fail "$libvirt_skip"

VK_URI="qemu+unix:///system?socket=$R/virtkit/libvirt-sock"
LV_URI="qemu:///system?socket=$R/libvirt/libvirt-sock"
for uri in "$VK_URI" "$LV_URI"; do
    virsh -q -c "$uri" define "$XML" >/dev/null || fail "define through $uri failed"
done
whole=$(( runs / 10 < 5 ? 5 : runs / 10 ))

# --- whole-process virsh start, interleaved --------------------------------------------------------
: >"$T/vk.start"; : >"$T/lv.start"
time_start() {  # URI FILE
    local t0 t1
    stamp t0
    virsh -q -c "$1" start "$NAME" >/dev/null 2>"$T/err" || fail "virsh start through $1: $(cat "$T/err")"
    stamp t1
    echo $(( (t1 - t0) * 1000 )) >>"$2"
    virsh -q -c "$1" destroy "$NAME" >/dev/null 2>&1
    for _ in $(seq 100); do pgrep -f -- "-name guest=$NAME," >/dev/null || break; sleep 0.05; done
}
for i in $(seq "$whole"); do
    time_start "$VK_URI" "$T/vk.start"
    time_start "$LV_URI" "$T/lv.start"
done

# --- the domain (paused) in both: whole-process dominfo, then warm calls ------------------------------
# Started paused: two TCG guests booting on this machine's cores would be noise in every figure
# below (query-status answers a paused guest as well).
virsh -q -c "$VK_URI" start --paused "$NAME" >/dev/null && virsh -q -c "$LV_URI" start --paused "$NAME" >/dev/null || fail "start failed"
: >"$T/vk.dominfo"; : >"$T/lv.dominfo"
for i in $(seq "$whole"); do
    for side in vk lv; do
        uri=$VK_URI; [ $side = lv ] && uri=$LV_URI
        stamp t0
        virsh -q -c "$uri" dominfo "$NAME" >/dev/null || fail "dominfo through $uri failed"
        stamp t1
        echo $(( (t1 - t0) * 1000 )) >>"$T/$side.dominfo"
    done
done
command -v gcc >/dev/null || fail "install gcc (for the floor server)"
gcc -O2 -o "$T/floor-server" Benchmarks/libvirt-floor-server.c || fail "cannot build the floor server"
"$T/floor-server" "$R/floor-sock" & extra_pids+=($!)
for _ in $(seq 50); do [ -S "$R/floor-sock" ] && break; sleep 0.1; done
/usr/bin/python3 Benchmarks/compare-libvirt-rpc.py "qemu+unix:///system?socket=$R/floor-sock" - "$runs" >"$T/floor.warm" || fail "the floor server did not answer"
/usr/bin/python3 Benchmarks/compare-libvirt-rpc.py "$VK_URI" "$NAME" "$runs" >"$T/vk.warm" || fail "warm calls through virtkitd failed"
/usr/bin/python3 Benchmarks/compare-libvirt-rpc.py "$LV_URI" "$NAME" "$runs" >"$T/lv.warm" || fail "warm calls through libvirtd failed"

python3 - "$T" "$runs" "$whole" <<'PY'
import statistics, sys
t, runs, whole = sys.argv[1], sys.argv[2], sys.argv[3]
def numbers(path, key=None):
    with open(path) as f:
        for line in f:
            words = line.split()
            if key is None:
                yield int(words[0])
            elif words[0] == key:
                yield from map(int, words[1:])
def p25(xs):
    xs = sorted(xs)
    return xs[len(xs) // 4]
rows = [("getLibVersion: one round trip (warm)", "warm", "floor", None, 1), ("lookupByName+info (warm)", "warm", "lookup-info", 0.5, 2),
        ("qemuMonitorCommand query-status (warm)", "warm", "monitor", 0.5, 1),
        ("virsh dominfo (process)", "dominfo", None, None, 0), ("virsh start (process)", "start", None, 0.5, 0)]
floor = statistics.median(numbers(f"{t}/floor.warm", "floor"))
print(f"{runs} warm calls, {whole} whole-process runs each; milliseconds: median (p25)")
print(f"floor (an instant server's getLibVersion round trip): {floor/1e6:.3f}")
print(f"{'':42} {'virtkitd':>18} {'libvirtd':>18}   ratio   server share")
for label, file, key, goal, trips in rows:
    vk = list(numbers(f"{t}/vk.{file}", key)); lv = list(numbers(f"{t}/lv.{file}", key))
    mv, ml = statistics.median(vk), statistics.median(lv)
    ratio = mv / ml
    share = f"{(mv - trips * floor) / (ml - trips * floor):.3f}" if trips and ml > trips * floor else "-"
    verdict = "" if goal is None else f" (goal <= {goal}: {'met' if ratio <= goal else 'NOT met'})"
    print(f"{label:42} {mv/1e6:9.3f} ({p25(vk)/1e6:6.3f}) {ml/1e6:9.3f} ({p25(lv)/1e6:6.3f})   {ratio:.3f}   {share:>6}{verdict}")
PY
