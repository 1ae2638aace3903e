#!/usr/bin/python3
"""python3-libvirt against virtkitd's libvirt socket (run by LibvirtProtocolTests).

Usage: python_client.py SOCKET DOMAIN_XML_FILE NAME SERIAL_RO_SOCKET
Prints one line per check, "ok NAME" or "FAIL NAME: why", and exits 1 on any failure.
"""
import socket
import sys
import threading
import time

import libvirt

sock, xml_file, name, serial_ro = sys.argv[1:5]
failures = []


def check(label, condition, detail=""):
    print(("ok " if condition else "FAIL ") + label + ("" if condition else ": " + str(detail)), flush=True)
    if not condition:
        failures.append(label)


libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
conn = libvirt.open("qemu+unix:///session?socket=" + sock)
check("type", conn.getType() == "QEMU", conn.getType())
check("lib version", conn.getLibVersion() == 9000000, conn.getLibVersion())
events = []
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                            lambda c, d, e, detail, o: events.append((d.name(), e, detail)), None)
reboots, agent_events = [], []
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, lambda c, d, o: reboots.append(d.name()), None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                            lambda c, d, state, reason, o: agent_events.append((d.name(), state, reason)), None)

dom = conn.defineXML(open(xml_file).read())
check("define", dom.name() == name and dom.ID() == -1, (dom.name(), dom.ID()))
check("listAllDomains", name in [d.name() for d in conn.listAllDomains()])
dom = conn.lookupByName(name)
info = dom.info()
check("info shut off", info[0] == libvirt.VIR_DOMAIN_SHUTOFF and info[1] == 128 * 1024 and info[3] == 1, info)
check("state", dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, 0], dom.state())
check("XMLDesc", "<name>%s</name>" % name in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
dom.create()
check("create", dom.isActive() == 1 and dom.ID() > 0, dom.ID())

# Wait for the guest through the serial's read-only socket (it holds no pen).
watcher = socket.socket(socket.AF_UNIX)
watcher.connect(serial_ro)
watcher.settimeout(120)
seen = b""
while b"VIRTKIT-GUEST-READY" not in seen:
    seen += watcher.recv(65536)

stream = conn.newStream(0)
dom.openConsole(None, stream, 0)
stream.send(b"echo py-$((6*7))\n")
text, deadline = b"", time.time() + 60
while b"py-42" not in text and time.time() < deadline:
    text += stream.recv(65536)
check("console stream", b"py-42" in text, text[-200:])
second = conn.newStream(0)
try:
    dom.openConsole(None, second, 0)
    check("a second console is refused", False, "it opened")
except libvirt.libvirtError as error:
    check("a second console is refused", "Active console session exists for this domain" in str(error), error)
forced = conn.newStream(0)
dom.openConsole(None, forced, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
forced.send(b"echo forced-$((5*5))\n")
text, deadline = b"", time.time() + 60
while b"forced-25" not in text and time.time() < deadline:
    text += forced.recv(65536)
check("a forced console takes the pen", b"forced-25" in text, text[-200:])
forced.finish()
stream.abort()

channel = conn.newStream(0)
dom.openChannel("org.example.echo", channel, 0)
channel.send(b"through libvirt\n")
text, deadline = b"", time.time() + 30
while b"\n" not in text and time.time() < deadline:
    text += channel.recv(4096)
check("channel stream", text == b"ECHO:THROUGH LIBVIRT\n", text)
channel.finish()

import libvirt_qemu
reply = libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)
check("qemuMonitorCommand", '"running":true' in reply, reply)
# A pause made through the monitor (not the API) is still an event.
libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"stop"}', 0)
libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"cont"}', 0)
# qemu-ga opened its channel at boot: AGENT_LIFECYCLE connected, reason channel.
deadline = time.time() + 30
while (name, libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED, 2) not in agent_events and time.time() < deadline:
    time.sleep(0.1)
check("agent lifecycle event", (name, libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED, 2) in agent_events, agent_events)
dom.reset(0)
deadline = time.time() + 10
while name not in reboots and time.time() < deadline:
    time.sleep(0.1)
# One per QMP RESET, as libvirt sends them: the guest may reset again on its way back up.
check("reboot event", reboots and all(n == name for n in reboots), reboots)
dom.destroy()
check("destroy", dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, dom.state())
dom.undefine()
try:
    conn.lookupByName(name)
    check("lookup after undefine fails", False)
except libvirt.libvirtError as error:
    check("lookup after undefine fails", error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
          and str(error) == "Domain not found: no domain with matching name '%s'" % name, error)
time.sleep(1)
kinds = [e for (n, e, d) in events if n == name]
check("lifecycle events", kinds == [0, 2, 3, 4, 5, 1], events)
conn.close()
sys.exit(1 if failures else 0)
