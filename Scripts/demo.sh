#!/bin/bash
# The README's main job: build the test guest, start a session virtkitd (unless one runs), define
# and start the bundled demo domain (serial console on a pty, guest agent channel, echo channel),
# show the console's log, two console clients at once, round trips through the echo channel and
# the guest agent, then shut the guest down through the agent and leave nothing behind.
# `--setup` first installs the packages (Scripts/setup.sh, as root) and builds; without it, run
# `sudo Scripts/setup.sh && swift build` once before.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --setup ]; then
    bash Scripts/setup.sh
    # The three programs the demo runs (not the benchmark tool; see Scripts/test.sh).
    for product in virtkit-cli virtkit virtkitd; do swift build --product "$product"; done
    bash Scripts/install-extras.sh
fi
BIN=${VIRTKIT_BIN:-.build/debug}
for tool in "$BIN/virtkit" "$BIN/virtkitd"; do
    [ -x "$tool" ] || { echo "demo: $tool is missing: run 'swift build' first" >&2; exit 1; }
done
XML=Examples/demo.xml
ECHO_SOCKET=/tmp/virtkit-demo-echo.sock
GUEST_DIR=$(sed -n 's|.*<kernel>\(.*\)/vmlinux</kernel>.*|\1|p' "$XML")

echo "== building the test guest in $GUEST_DIR"
Scripts/build-test-guest.sh "$GUEST_DIR"

export VIRTKIT_DEFAULT_URI=virtkit:///session
virtkit() { "$BIN/virtkit" "$@"; }

# A session daemon runs already (its lock file names a live pid), or the first `virtkit` call
# starts one, as virsh autostarts a session libvirtd; that one is stopped again at the end.
run=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/virtkit}
run=${run:-/tmp/virtkit-$(id -u)}
daemon_running() { [ -s "$run/virtkitd.lock" ] && kill -0 "$(cat "$run/virtkitd.lock")" 2>/dev/null; }
started_daemon=no
daemon_running || started_daemon=yes
cleanup() {
    virtkit destroy demo >/dev/null 2>&1 || true
    virtkit undefine demo >/dev/null 2>&1 || true
    if [ "$started_daemon" = yes ] && daemon_running; then
        kill -TERM "$(cat "$run/virtkitd.lock")" 2>/dev/null || true
    fi
}
trap cleanup EXIT
virtkit list --all >/dev/null

echo "== define and start the demo domain (virtkitd logs its console from the first byte)"
virtkit undefine demo >/dev/null 2>&1 || true
virtkit define "$XML"
virtkit start demo
virtkit list

# The ready line of this boot: a read-only console replays this run's scrollback (the log file
# also holds earlier runs' lines), then is stopped.
began=$(date +%s)
until { timeout 1 "$BIN/virtkit" console demo --readonly </dev/null 2>/dev/null || true; } | grep -aq VIRTKIT-GUEST-READY; do
    if [ $(( $(date +%s) - began )) -gt 90 ]; then
        echo "demo: no ready line on the console within 90 s; the log ends:" >&2
        virtkit log demo serial0 | tail -c 400 >&2
        exit 1
    fi
    sleep 0.2
done
echo "console log: $(virtkit log demo serial0 | tr -d '\r' | grep -a VIRTKIT-GUEST-READY | tail -1)"

echo "== two console clients at once: a watcher (--readonly) and a typist"
watch=$(mktemp)
virtkit console demo --readonly > "$watch" &
watcher=$!
printf 'echo typed-into-the-console-$((6*7))\n' | virtkit console demo | tr -d '\r' | grep -a '^typed-into-the-console-42$'
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
grep -aq 'typed-into-the-console-42' "$watch" && echo "the watcher saw it too (and, joining late, the boot from the scrollback: $(grep -ac . "$watch") lines)"
rm -f "$watch"

echo "== the echo channel, through virtkitd (virtkit channel) and straight at its socket"
echo 'hello from the host' | virtkit channel demo org.example.echo
python3 - "$ECHO_SOCKET" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
s.sendall(b"hello again\n")
reply = b""
while not reply.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print("socket %s: guest answered %r" % (sys.argv[1], reply.decode().strip()))
if reply.strip() != b"ECHO:HELLO AGAIN":
    sys.exit("demo: unexpected echo reply")
PY

echo "== the guest agent"
virtkit guest-agent demo ping
virtkit guest-agent demo osinfo
virtkit dominfo demo
echo "== clean shutdown through the guest agent"
virtkit shutdown demo --mode agent --timeout 60
virtkit domstate --reason demo
echo "== demo done"
