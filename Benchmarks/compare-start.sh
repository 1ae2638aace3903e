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
# Prints the median and min of each over N interleaved runs (one untimed warm-up each first, which
# also lets libvirtd probe QEMU) and the ratios virtkit/libvirt (goal <= 0.5) and virtkit/bare
# (goal <= 1.2). Prints figures, never asserts; exits 0 unless something could not run.
#
# Usage: Benchmarks/compare-start.sh [--runs N] [--bin DIR]
#   Build first: swift build -c release --product virtkitd && swift build -c release --product virtkit
#   (uses .build/release, else .build/debug, unless --bin DIR). Run as root.
# Needs: qemu-system-x86 (qemu-system-x86_64), python3, util-linux (unshare), the test guest
#   (Scripts/build-test-guest.sh); for the libvirt column the Debian packages libvirt-daemon
#   (/usr/sbin/libvirtd, /usr/sbin/virtlogd), libvirt-daemon-driver-qemu and libvirt-clients (virsh).
#   Without libvirtd the libvirt column is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
helper="$repo/Benchmarks/compare-start.py"

runs=10 bindir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) runs=${1#*=}; shift ;;
        --bin) bindir=${2:?--bin needs a directory}; shift 2 ;;
        --bin=*) bindir=${1#*=}; shift ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare-start: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "compare-start: --runs needs a positive number" >&2; exit 2 ;; esac

fail() { echo "compare-start: $*" >&2; exit 1; }

if [ -z "$bindir" ]; then
    for d in .build/release .build/debug; do
        if [ -x "$d/virtkit" ] && [ -x "$d/virtkitd" ]; then bindir=$d; break; fi
    done
    [ -n "$bindir" ] || fail "no virtkit/virtkitd in .build/release or .build/debug: build first (swift build -c release --product virtkitd && swift build -c release --product virtkit)"
fi
bindir=$(readlink -f "$bindir")
VK="$bindir/virtkit" VKD="$bindir/virtkitd"
[ -x "$VK" ] && [ -x "$VKD" ] || fail "no virtkit and virtkitd in $bindir"
[ "$(id -u)" = 0 ] || fail "run as root (libvirtd and the namespace need it)"
command -v python3 >/dev/null || fail "python3 is missing"
QEMU=/usr/bin/qemu-system-x86_64
[ -x "$QEMU" ] || fail "$QEMU is missing (install qemu-system-x86)"
GUEST=/var/cache/virtkit/guest
[ -r "$GUEST/vmlinux" ] && [ -r "$GUEST/initrd.img" ] || fail "no test guest in $GUEST: run Scripts/build-test-guest.sh"

libvirt_skip="" libvirt_failed=""
if [ ! -x /usr/sbin/libvirtd ]; then libvirt_skip="install libvirt-daemon (no /usr/sbin/libvirtd)"
elif [ ! -x /usr/sbin/virtlogd ]; then libvirt_skip="install libvirt-daemon (no /usr/sbin/virtlogd)"
elif ! command -v virsh >/dev/null; then libvirt_skip="install libvirt-clients (no virsh)"
elif ! command -v unshare >/dev/null; then libvirt_skip="install util-linux (no unshare)"
elif [ ! -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ]; then
    libvirt_skip="install libvirt-daemon-driver-qemu"
fi

NAME=vkbench
T=$(mktemp -d /tmp/vkb-XXXXXX) || fail "mktemp failed"
S="$T/lv"
vkd_pid="" lvd_pid=""
export VIRTKIT_DEFAULT_URI="virtkit+unix://$T/run/virtkitd.sock"
VIRSH=(virsh -q -c "qemu:///system?socket=$S/run/libvirt/libvirt-sock")

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
stop_pid() {  # SIGTERM, up to 5 s, then SIGKILL
    local pid=$1 i
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
cleaned=""
cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    trap '' INT TERM
    if pid_alive "$vkd_pid"; then
        "$VK" destroy "$NAME" >/dev/null 2>&1
        "$VK" undefine "$NAME" >/dev/null 2>&1
        for p in $(pgrep -P "$vkd_pid" 2>/dev/null); do stop_pid "$p"; done
        stop_pid "$vkd_pid"
    fi
    if pid_alive "$lvd_pid"; then
        "${VIRSH[@]}" destroy "$NAME" >/dev/null 2>&1
        "${VIRSH[@]}" undefine "$NAME" >/dev/null 2>&1
    fi
    [ -f "$S/run/libvirt/qemu/$NAME.pid" ] && stop_pid "$(cat "$S/run/libvirt/qemu/$NAME.pid" 2>/dev/null)"
    stop_pid "$lvd_pid"
    [ -f "$S/libvirtd.pid" ] && stop_pid "$(cat "$S/libvirtd.pid" 2>/dev/null)"
    [ -f "$S/virtlogd.pid" ] && stop_pid "$(cat "$S/virtlogd.pid" 2>/dev/null)"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "compare-start: interrupted" >&2; exit 130' INT TERM

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# --- the domain ---------------------------------------------------------------------------------
XML="$T/$NAME.xml"
cat >"$XML" <<EOF
<domain type='qemu'>
  <name>$NAME</name>
  <uuid>7c1e4d2a-0b5f-4e8a-9c3d-2f6a8b1e5d40</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$GUEST/vmlinux</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 mitigations=off cryptomgr.notests</cmdline>
  </os>
  <devices>
    <interface type='user'>
      <mac address='52:54:00:4b:be:01'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
  </devices>
</domain>
EOF
mkdir -p "$T/res"
"$VK" domxml-to-native qemu-argv "$XML" --lines >"$T/argv" 2>"$T/argv.err" \
    || fail "virtkit domxml-to-native failed: $(cat "$T/argv.err")"

# --- virtkitd -----------------------------------------------------------------------------------
mkdir -p "$T/run" "$T/state" "$T/log"
"$VKD" --run-dir "$T/run" --state-dir "$T/state" --log-dir "$T/log" >"$T/virtkitd.out" 2>&1 &
vkd_pid=$!
vkd_up=""
for _ in $(seq 100); do "$VK" list --all >/dev/null 2>"$T/err" && { vkd_up=1; break; }; pid_alive "$vkd_pid" || break; sleep 0.1; done
[ -n "$vkd_up" ] || fail "virtkitd did not answer on $T/run/virtkitd.sock ($(pid_alive "$vkd_pid" && echo running || echo "exited")): $(cat "$T/err") $(tail -3 "$T/virtkitd.out")"

# --- libvirtd (private mount namespace) ---------------------------------------------------------
if [ -z "$libvirt_skip" ]; then
    mkdir -p "$S"
    S="$S" unshare -m --propagation private sh -c '
        mount --make-rprivate / || exit 1
        for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
            mkdir -p "$d" "$S$d" && cp -a "$d/." "$S$d/" 2>/dev/null; mount --bind "$S$d" "$d" || exit 1
        done
        printf "user = \"root\"\ngroup = \"root\"\nsecurity_driver = \"none\"\n" >/etc/libvirt/qemu.conf
        /usr/sbin/virtlogd --daemon --pid-file "$S/virtlogd.pid" || exit 1
        exec /usr/sbin/libvirtd --timeout 3600 --pid-file "$S/libvirtd.pid"' >"$T/libvirtd.out" 2>&1 &
    lvd_pid=$!  # unshare and sh exec, so this is libvirtd itself
    for _ in $(seq 100); do [ -S "$S/run/libvirt/libvirt-sock" ] && break; pid_alive "$lvd_pid" || break; sleep 0.1; done
    # The first connection probes QEMU (~8 s); not timed.
    if ! "${VIRSH[@]}" version >"$T/virsh.err" 2>&1; then
        libvirt_failed="libvirtd did not answer: $(tail -2 "$T/virsh.err") $(grep -m2 ' error : ' "$T/libvirtd.out")"
        libvirt_skip=$libvirt_failed
        stop_pid "$lvd_pid"; lvd_pid=""
    fi
fi

# --- one run of each ----------------------------------------------------------------------------
vk_lost=0  # calls that failed with "lost connection" (a virtkitd/client flake seen here); repeated
vk() {  # a virtkit call, repeated (up to twice more) when the connection to virtkitd was lost
    local try
    for try in 1 2 3; do
        "$VK" "$@" >/dev/null 2>"$T/vkerr" && return 0
        grep -q "lost connection" "$T/vkerr" || return 1
        vk_lost=$((vk_lost + 1))
    done
    return 1
}
vk_remove() {  # destroy + undefine until the domain is gone
    local try
    for try in 1 2 3; do
        vk destroy "$NAME"; vk undefine "$NAME"
        "$VK" domstate "$NAME" >/dev/null 2>&1 || return 0
    done
    fail "virtkit could not destroy/undefine $NAME: $(cat "$T/vkerr")"
}
run_virtkit() {  # appends ns to res/virtkit.ns when $1 = timed
    local t0 tm t1 rc try
    for try in 1 2 3; do  # a run whose define or start lost its connection is repeated
        t0=$(now_us)
        "$VK" define "$XML" >/dev/null 2>"$T/err" && { tm=$(now_us); "$VK" start "$NAME" >/dev/null 2>>"$T/err"; }
        rc=$? ; t1=$(now_us)
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
    ns=$(python3 "$helper" bare "$T/argv" "$T/bare" 2>"$T/err") || fail "bare QEMU run failed: $(cat "$T/err")"
    [ "$1" = timed ] && echo "$ns" >>"$T/res/bare.ns"
    return 0
}
run_libvirt() {
    local t0 tm t1
    t0=$(now_us)
    "${VIRSH[@]}" define "$XML" >/dev/null 2>"$T/err" && { tm=$(now_us); "${VIRSH[@]}" start "$NAME" >/dev/null 2>>"$T/err"; }
    local rc=$? ; t1=$(now_us)
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
for i in $(seq "$runs"); do
    run_virtkit timed
    run_bare timed
    [ -z "$libvirt_skip" ] && run_libvirt timed
done
# The floor of any CLI call: a virtkit process that only prints its help.
for _ in 1 2 3 4 5; do t0=$(now_us); "$VK" --help >/dev/null 2>&1; t1=$(now_us); echo $(( (t1 - t0) * 1000 )) >>"$T/res/cli.ns"; done
echo
python3 "$helper" report "$T/res" "$runs"
[ "$vk_lost" -gt 0 ] && echo "note: $vk_lost virtkit call(s) failed with \"lost connection to virtkitd\" and were repeated (not timed)"
[ -n "$libvirt_skip" ] && echo "skipped libvirt: $libvirt_skip"
[ -z "$libvirt_failed" ]  # exit 1 when libvirt is installed but could not run
