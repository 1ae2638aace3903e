#!/bin/bash
# Monitor command latency, side by side, on one running guest of the self-contained TCG domain of
# compare-start.sh (three copies, all running at once: under virtkitd, under libvirtd, bare QEMU):
#  1. One-shot `info status` (HMP) and `{"execute":"query-status"}` (QMP), timed from process
#     start to answer:
#       virtkit  `virtkit qemu-monitor-command NAME [--hmp] CMD` against a private virtkitd
#       virsh    libvirt 9.0's `virsh qemu-monitor-command NAME [--hmp] CMD` against a private
#                libvirtd (+ virtlogd) in a private mount namespace
#       direct   `socat - UNIX-CONNECT:PATH` straight to a bare QEMU's monitor sockets (the argv of
#                `virtkit domxml-to-native`, without -S, plus `-monitor unix:PATH,server=on,wait=off`
#                for HMP); for QMP, qmp_capabilities and query-status are sent in one go and the
#                answer is the second reply; the time ends when the answer has been read
#     and, for reference, socat to virtkitd's command socket (the daemon without the CLI process)
#     and `virtkit --help` (the front execs virtkit-cli, the full command tree). Median and p90 of N interleaved runs (one untimed
#     warm-up each first), and the ratios virtkit/virsh (goal <= 0.5) and virtkit/direct (goal <= 1.2).
#  2. Warm connection: 2000 sequential `{"execute":"query-status","id":N}` round trips on one
#     connection to the guest's interactive channel of virtkitd (`virtkit monitor-ports`; its first
#     line qmp_capabilities makes a QMP session), and the same on the bare QEMU's QMP socket for
#     reference; p50 and p99 (goal: virtkit p50 < 0.2 ms).
# The guests boot for 3 s before any timing. Prints figures, never asserts; exits 0 unless
# something could not run. Stops every guest and daemon it started and removes its temp dir on
# exit, Ctrl-C included.
#
# Usage: Benchmarks/compare-monitor.sh [--runs N] [--bin DIR]      (N: one-shot runs, default 50)
#   Build first: swift build -c release (virtkit, virtkit-cli and virtkitd)
#   (uses .build/release, else .build/debug, unless --bin DIR). Run as root.
# Needs: qemu-system-x86 (qemu-system-x86_64), python3, socat, util-linux (unshare), the test guest
#   (Scripts/build-test-guest.sh); for the virsh row the Debian packages libvirt-daemon
#   (/usr/sbin/libvirtd, /usr/sbin/virtlogd), libvirt-daemon-driver-qemu and libvirt-clients (virsh).
#   Without libvirtd the virsh row is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
helper="$repo/Benchmarks/compare-monitor.py"
bench=compare-monitor
. "$repo/Benchmarks/bench-common.sh"
bench_parse_args 50 "$@"
command -v socat >/dev/null || fail "socat is missing (apt-get install socat)"
bench_setup

bench_write_domain
"$VK" domxml-to-native qemu-argv "$XML" --lines >"$T/argv" 2>"$T/argv.err" \
    || fail "virtkit domxml-to-native failed: $(cat "$T/argv.err")"
bench_start_virtkitd
bench_start_libvirtd

# --- the three guests -----------------------------------------------------------------------------
vk define "$XML" && vk start "$NAME" || fail "virtkit define/start failed: $(cat "$T/vkerr")"

if [ -z "$libvirt_skip" ]; then
    if ! { "${VIRSH[@]}" define "$XML" >/dev/null 2>"$T/err" && "${VIRSH[@]}" start "$NAME" >/dev/null 2>>"$T/err"; }; then
        libvirt_failed="virsh define/start failed: $(tr '\n' ' ' <"$T/err")"
        libvirt_skip=$libvirt_failed
    fi
fi

mkdir -p "$T/bare"
bare_hmp="$T/bare/hmp.sock"
bare_qmp=$(python3 "$helper" bare-argv "$T/argv" "$T/bare" "$bare_hmp" "$T/bare/argv0" 2>"$T/err") \
    || fail "could not make the bare QEMU argv: $(cat "$T/err")"
mapfile -d '' -t bare_argv <"$T/bare/argv0"
"${bare_argv[@]}" </dev/null >"$T/bare/qemu.out" 2>&1 &
extra_pids+=($!)
for _ in $(seq 100); do [ -S "$bare_hmp" ] && [ -S "$bare_qmp" ] && break; pid_alive "${extra_pids[0]}" || break; sleep 0.1; done
[ -S "$bare_hmp" ] && [ -S "$bare_qmp" ] || fail "bare QEMU did not open its monitor sockets: $(tail -3 "$T/bare/qemu.out")"

"$VK" monitor-ports "$NAME" >"$T/ports" 2>"$T/err" || fail "virtkit monitor-ports failed: $(cat "$T/err")"
vk_interactive=$(awk '$1 == "interactive" && $2 ~ /^unix:/ { sub(/^unix:/, "", $2); print $2; exit }' "$T/ports")
vk_command=$(awk '$1 == "command" && $2 ~ /^unix:/ { sub(/^unix:/, "", $2); print $2; exit }' "$T/ports")
[ -n "$vk_interactive" ] && [ -n "$vk_command" ] || fail "virtkit monitor-ports shows no UNIX sockets: $(cat "$T/ports")"

sleep 3  # let the guests boot

echo "binaries: $VK, $VKD"
echo "qemu: $("$QEMU" --version | head -1); libvirt: ${libvirt_skip:+skipped}$( [ -z "$libvirt_skip" ] && virsh --version); $(socat -V | grep -m1 'socat version' | cut -d' ' -f1-3)"
echo "guest: $NAME (TCG, q35, 128 MiB, kernel+initrd, pty serial, virtio channel, user net), running, three copies (virtkitd, libvirtd, bare QEMU)"
echo
virsh_uri=()
[ -z "$libvirt_skip" ] && virsh_uri=(--virsh-uri "qemu:///system?socket=$R/libvirt/libvirt-sock")
python3 "$helper" measure --runs "$runs" --virtkit "$VK" --name "$NAME" "${virsh_uri[@]}" \
    --vk-interactive "$vk_interactive" --vk-command "$vk_command" --hmp "$bare_hmp" --qmp "$bare_qmp" \
    || fail "the measurement could not run (see above)"
[ "$vk_lost" -gt 0 ] && echo "note: $vk_lost virtkit call(s) failed with \"lost connection to virtkitd\" and were repeated (not timed)"
[ -n "$libvirt_skip" ] && echo "skipped virsh: $libvirt_skip"
[ -z "$libvirt_failed" ]  # exit 1 when libvirt is installed but could not run
