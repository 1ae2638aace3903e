#!/usr/bin/python3
"""`virsh console` on a pty against virtkitd (run by LibvirtProtocolTests).

Usage: virsh_console.py URI NAME
Types into the console, waits past a keepalive interval, types again, leaves with Ctrl-].
"""
import os
import pty
import select
import sys
import time

uri, name = sys.argv[1:3]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("virsh", ["virsh", "-c", uri, "console", name])

buffer = b""


def expect(token, timeout=60):
    global buffer
    deadline = time.time() + timeout
    while token not in buffer:
        left = deadline - time.time()
        if left <= 0:
            sys.exit("timed out waiting for %r; got %r" % (token, buffer[-300:]))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                buffer += os.read(fd, 65536)
            except OSError:
                sys.exit("console closed early; got %r" % buffer[-300:])


expect(b"Escape character is ^]")
# The shell's line editor asks the terminal where its cursor is (ESC [6n) and takes the next
# keys as the answer: type until a line comes back.
for attempt in range(30):
    os.write(fd, b"echo tty-$((3*5))\r")
    try:
        expect(b"tty-15", timeout=2)
        break
    except SystemExit:
        continue
expect(b"tty-15")
time.sleep(7)  # past virsh's 5 s keepalive interval: pings must be answered
os.write(fd, b"echo later-$((2*2))\r")
expect(b"later-4")
os.write(fd, b"\x1d")
_, status = os.waitpid(pid, 0)
print("virsh exited", os.waitstatus_to_exitcode(status))
sys.exit(os.waitstatus_to_exitcode(status))
