#!/bin/bash
# Many guests in one virtkitd: N guests of the start benchmark's domain (TCG, q35, 128 MiB, the
# test guest, a pty serial and a guest agent channel; no NIC), most started paused and a few
# running, under one private virtkitd. Prints:
#   - virtkitd's resident memory and open descriptors with the guests defined but stopped, with
#     all of them started, and the difference per guest (goals: < 1 MiB and < 20 descriptors);
#   - `virtkit list --all` from process start to exit, median and p90 of 20 runs (goal: < 5 ms
#     for 100 guests);
#   - after kill -9 of virtkitd, the time from the new virtkitd's exec to a `virtkit list` that
#     shows every guest again, re-attached (goal: < 2 s for 100 guests).
# Prints figures, never asserts; exits 0 unless something could not run. Stops every guest and
# the daemon and removes its temp dirs on exit, Ctrl-C included.
#
# Usage: Benchmarks/scale.sh [--guests N] [--running K] [--bin DIR]   (defaults: 100 guests, 3 running)
#   Build first: swift build -c release (virtkit, virtkit-cli and virtkitd). Run as root.
set -uo pipefail
bench=scale
cd "$(dirname "$0")/.."
guests=100 running=3 args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --guests) guests=${2:?--guests needs a number}; shift 2 ;;
        --running) running=${2:?--running needs a number}; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
. Benchmarks/bench-common.sh
bench_parse_args 1 "${args[@]}"
bench_setup
libvirt_skip="not used here"

scale_cleanup() {
    local p
    for p in $(pgrep -f -- "-name guest=vkscale-[0-9]+,.*$R/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    cleanup
}
trap scale_cleanup EXIT

domain() {  # NAME N: the domain XML of guest N
    printf "<domain type='qemu'><name>%s</name><uuid>7c1e4d2a-0b5f-4e8a-9c3d-%012d</uuid>" "$1" "$2"
    printf "<memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
    printf "<kernel>%s/vmlinux</kernel><initrd>%s/initrd.img</initrd>" "$GUEST" "$GUEST"
    printf "<cmdline>console=ttyS0 mitigations=off</cmdline></os><devices><serial type='pty'/>"
    printf "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>\n"
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
median_p90() {  # numbers on stdin (one a line): "median p90"
    sort -n | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.9+0.999)]; printf "%.2f %.2f", m, p}'
}

bench_start_virtkitd
for i in $(seq "$guests"); do
    domain "vkscale-$i" "$i" >"$T/g.xml"
    "$VK" define "$T/g.xml" >/dev/null || fail "define vkscale-$i: $("$VK" define "$T/g.xml" 2>&1)"
done
rss0=$(rss_kib "$vkd_pid") fds0=$(fds "$vkd_pid")
for i in $(seq "$guests"); do
    if [ "$i" -le "$running" ]; then "$VK" start "vkscale-$i" >/dev/null; else "$VK" start --paused "vkscale-$i" >/dev/null; fi \
        || fail "start vkscale-$i: $(tail -3 "$T/virtkitd.out")"
done
sleep 2
rss1=$(rss_kib "$vkd_pid") fds1=$(fds "$vkd_pid")
echo "$guests guests ($running running, the others paused) under one virtkitd ($VKD)"
echo
echo "1. virtkitd's memory and descriptors"
printf '   defined, none started: %8d KiB RSS %6d descriptors\n' "$rss0" "$fds0"
printf '   all started:           %8d KiB RSS %6d descriptors\n' "$rss1" "$fds1"
per_kib=$(( (rss1 - rss0) / guests ))
per_fds=$(awk -v a="$fds0" -v b="$fds1" -v n="$guests" 'BEGIN {printf "%.1f", (b - a) / n}')
printf '   per guest:             %8d KiB     %6s descriptors (goals: < 1024 KiB, < 20)\n' "$per_kib" "$per_fds"

times=()
for _ in $(seq 20); do
    stamp a; "$VK" list --all >/dev/null; stamp b
    times+=("$(( b - a ))")
done
read -r list_median list_p90 < <(printf '%s\n' "${times[@]}" | awk '{print $1 / 1000}' | median_p90)
echo
echo "2. virtkit list --all ($guests domains), process start to exit, 20 runs"
echo "   median $list_median ms, p90 $list_p90 ms (goal: < 5 ms)"

kill -KILL "$vkd_pid"
wait "$vkd_pid" 2>/dev/null
stamp a
setsid "$VKD" --run-dir "$R/virtkit" --state-dir "$T/state" --log-dir "$T/log" >>"$T/virtkitd.out" 2>&1 &
vkd_pid=$!
back=""
for _ in $(seq 6000); do
    count=$("$VK" list 2>/dev/null | grep -c ' vkscale-')
    [ "$count" = "$guests" ] && { stamp b; back=1; break; }
    sleep 0.005
done
echo
echo "3. after kill -9 of virtkitd: a new virtkitd's exec to every guest listed again"
if [ -n "$back" ]; then
    echo "   $(( (b - a) / 1000 )) ms for $guests guests (goal: < 2000 ms)"
else
    echo "   not all guests came back within 30 s: $(tail -3 "$T/virtkitd.out")"
fi
for i in $(seq "$guests"); do "$VK" destroy "vkscale-$i" >/dev/null 2>&1; "$VK" undefine "vkscale-$i" >/dev/null 2>&1; done
