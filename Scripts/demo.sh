#!/bin/bash
# The README's main job: build the test guest, start a session virtkitd (unless one runs), define
# and start the bundled demo domain (serial console on a pty, guest agent channel, echo channel),
# show the console's ready line and a round trip through the echo channel, then shut the guest
# down cleanly and leave nothing behind. Run `sudo Scripts/setup.sh && swift build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
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

echo "== define and start the demo domain (paused, so the console misses nothing)"
virtkit undefine demo >/dev/null 2>&1 || true
virtkit define "$XML"
virtkit start demo --paused
PTY=$(virtkit dumpxml demo | sed -n "/<serial type='pty'>/,/<\/serial>/s|.*<source path='\([^']*\)'/>.*|\1|p" | head -1)
[ -n "$PTY" ] || { echo "demo: no pty in the live XML" >&2; exit 1; }
echo "serial console on $PTY"
virtkit list

python3 - "$PTY" "$ECHO_SOCKET" "$BIN/virtkit" <<'PY'
import os, socket, subprocess, sys, time, tty
pty, echo_path, virtkit = sys.argv[1:4]
fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
subprocess.run([virtkit, "resume", "demo"], check=True)
start, seen = time.time(), b""
while b"VIRTKIT-GUEST-READY" not in seen:
    if time.time() - start > 90:
        sys.exit("demo: no ready line on the console within 90 s; got: %r" % seen[-400:])
    seen += os.read(fd, 4096)
line = [l for l in seen.decode(errors="replace").splitlines() if "VIRTKIT-GUEST-READY" in l][0]
print("console: %s (%.1f s after resume)" % (line.strip(), time.time() - start))
s = socket.socket(socket.AF_UNIX)
s.connect(echo_path)
s.settimeout(30)
s.sendall(b"hello from the host\n")
reply = b""
while not reply.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print("echo channel: sent 'hello from the host', guest answered %r" % reply.decode().strip())
if reply.strip() != b"ECHO:HELLO FROM THE HOST":
    sys.exit("demo: unexpected echo reply")
s.close()
os.close(fd)
PY

virtkit dominfo demo
echo "== clean shutdown (ACPI power button)"
virtkit shutdown demo --timeout 60
virtkit domstate --reason demo
echo "== demo done"
