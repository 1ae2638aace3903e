# Shared by Benchmarks/compare-start.sh and Benchmarks/compare-monitor.sh (sourced, not run):
# arguments (--runs N, --bin DIR), the binaries and prerequisites, a temp dir, the test domain
# (TCG, q35, 128 MiB, the test guest kernel/initrd, a serial pty, a virtio guest-agent channel, user
# networking), a private virtkitd (--run-dir/--state-dir/--log-dir in the temp dir), a private
# libvirtd + virtlogd in a private mount namespace (/etc, /run, /var/{lib,cache,log}/libvirt
# bind-mounted from the temp dir; UNIX sockets only; QEMU as root, security_driver "none"), both
# daemons in sessions of their own, and a cleanup on exit (also on Ctrl-C) that stops the guests,
# both daemons, virtlogd and every pid in extra_pids, and removes the temp dir.
#
# The sourcing script sets `bench` (its name, for messages) and `set -uo pipefail` first, then
# calls bench_parse_args DEFAULT_RUNS "$@", bench_setup, bench_write_domain and the bench_start_*.
# Its --help is the comment block at its top, up to its `set` line.

fail() { echo "$bench: $*" >&2; exit 1; }

bench_parse_args() {  # DEFAULT_RUNS ARGS...: sets runs, bindir
    runs=$1 bindir=""
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --runs) runs=${2:?--runs needs a number}; shift 2 ;;
            --runs=*) runs=${1#*=}; shift ;;
            --bin) bindir=${2:?--bin needs a directory}; shift 2 ;;
            --bin=*) bindir=${1#*=}; shift ;;
            -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            *) echo "$bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        esac
    done
    case "$runs" in ''|*[!0-9]*|0) echo "$bench: --runs needs a positive number" >&2; exit 2 ;; esac
}

# Sets VK, VKD, QEMU, GUEST, libvirt_skip, NAME, T, S, VIRSH, VIRTKIT_DEFAULT_URI; installs the traps.
bench_setup() {
    if [ -z "$bindir" ]; then
        local d
        for d in .build/release .build/debug; do
            if [ -x "$d/virtkit" ] && [ -x "$d/virtkit-cli" ] && [ -x "$d/virtkitd" ]; then bindir=$d; break; fi
        done
        [ -n "$bindir" ] || fail "no virtkit/virtkitd in .build/release or .build/debug: build first (swift build -c release: virtkit, virtkit-cli, virtkitd)"
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
    # Runtime directories (virtkitd's --run-dir, libvirt's /run/libvirt, bare QEMU's sockets) on a
    # tmpfs, as /run and XDG_RUNTIME_DIR are on a host: this machine's /run is on its disk, where
    # every socket, directory and status file of a start is an ext4 journal entry (1.1 ms more
    # from virtkit's start request to QEMU's spawn, measured). State and logs stay on the disk.
    # BENCH_RUN_BASE=DIR puts them elsewhere (e.g. /tmp, to see the disk's cost).
    R=$(mktemp -d "${BENCH_RUN_BASE:-/dev/shm}/vkb-run-XXXXXX") || fail "mktemp in ${BENCH_RUN_BASE:-/dev/shm} failed"
    vkd_pid="" lvd_pid="" extra_pids=()
    export VIRTKIT_DEFAULT_URI="virtkit+unix://$R/virtkit/virtkitd.sock"
    VIRSH=(virsh -q -c "qemu:///system?socket=$R/libvirt/libvirt-sock")
    cleaned=""
    trap cleanup EXIT
    trap 'echo "$bench: interrupted" >&2; exit 130' INT TERM
}

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
cleanup() {
    [ -n "$cleaned" ] && return
    cleaned=1
    trap '' INT TERM
    local p
    for p in "${extra_pids[@]}"; do stop_pid "$p"; done
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
    [ -f "$R/libvirt/qemu/$NAME.pid" ] && stop_pid "$(cat "$R/libvirt/qemu/$NAME.pid" 2>/dev/null)"
    stop_pid "$lvd_pid"
    [ -f "$S/libvirtd.pid" ] && stop_pid "$(cat "$S/libvirtd.pid" 2>/dev/null)"
    [ -f "$S/virtlogd.pid" ] && stop_pid "$(cat "$S/virtlogd.pid" 2>/dev/null)"
    # A guest whose daemon went first (killed from outside): every QEMU with a path in $T or $R.
    for p in $(pgrep -f -- "-name guest=$NAME,.*($T|$R)/" 2>/dev/null); do stop_pid "$p"; done
    rm -rf "$T" "$R"
}

# stamp VAR: the wall clock in microseconds into VAR, without a subshell: `t=$(now_us)` would fork
# one, and about 0.5 ms of that fork and exit fell inside the interval it timed.
stamp() { local _now=$EPOCHREALTIME; printf -v "$1" '%s' "${_now/./}"; }

bench_write_domain() {  # writes $XML
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
    <cmdline>console=ttyS0 mitigations=off cryptomgr.notests no_timer_check</cmdline>
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
}

bench_start_virtkitd() {
    mkdir -p "$R/virtkit" "$T/state" "$T/log"
    # In a session of its own (setsid execs it: a background job is no group leader), so that a
    # Ctrl-C reaches this script, not the daemon (which would leave its guest running and go).
    setsid "$VKD" --run-dir "$R/virtkit" --state-dir "$T/state" --log-dir "$T/log" >"$T/virtkitd.out" 2>&1 &
    vkd_pid=$!
    local vkd_up=""
    for _ in $(seq 100); do "$VK" list --all >/dev/null 2>"$T/err" && { vkd_up=1; break; }; pid_alive "$vkd_pid" || break; sleep 0.1; done
    [ -n "$vkd_up" ] || fail "virtkitd did not answer on $R/virtkit/virtkitd.sock ($(pid_alive "$vkd_pid" && echo running || echo "exited")): $(cat "$T/err") $(tail -3 "$T/virtkitd.out")"
}

# Starts libvirtd unless libvirt_skip; on failure sets libvirt_failed and libvirt_skip.
bench_start_libvirtd() {
    [ -z "$libvirt_skip" ] || return 0
    mkdir -p "$S"
    S="$S" R="$R" setsid unshare -m --propagation private sh -c '
        mount --make-rprivate / || exit 1
        for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
            src="$S$d"; [ "$d" = /run/libvirt ] && src="$R/libvirt"
            mkdir -p "$d" "$src" && cp -a "$d/." "$src/" 2>/dev/null; mount --bind "$src" "$d" || exit 1
        done
        printf "user = \"root\"\ngroup = \"root\"\nsecurity_driver = \"none\"\n" >/etc/libvirt/qemu.conf
        /usr/sbin/virtlogd --daemon --pid-file "$S/virtlogd.pid" || exit 1
        exec /usr/sbin/libvirtd --timeout 3600 --pid-file "$S/libvirtd.pid"' >"$T/libvirtd.out" 2>&1 &
    lvd_pid=$!  # setsid, unshare and sh exec, so this is libvirtd itself
    for _ in $(seq 100); do [ -S "$R/libvirt/libvirt-sock" ] && break; pid_alive "$lvd_pid" || break; sleep 0.1; done
    # The first connection probes QEMU (~8 s); not timed.
    if ! "${VIRSH[@]}" version >"$T/virsh.err" 2>&1; then
        libvirt_failed="libvirtd did not answer: $(tail -2 "$T/virsh.err") $(grep -m2 ' error : ' "$T/libvirtd.out")"
        libvirt_skip=$libvirt_failed
        stop_pid "$lvd_pid"; lvd_pid=""
    fi
}

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
