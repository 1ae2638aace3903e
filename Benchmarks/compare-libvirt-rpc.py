#!/usr/bin/python3
"""Warm-connection libvirt calls through python3-libvirt (Debian's, so /usr/bin/python3).

Usage: compare-libvirt-rpc.py URI NAME RUNS
Prints three lines, "floor NS...", "lookup-info NS..." and "monitor NS...": the nanoseconds of
each run of getLibVersion() (one round trip the server answers with a constant: the client's and
the transport's share), lookupByName(NAME)+info() and qemuMonitorCommand(query-status), on one
open connection,
after 20 untimed warm-up calls each. NAME must be active (running or paused); NAME "-" runs getLibVersion alone.
"""
import sys
import time

import libvirt
import libvirt_qemu

uri, name, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = libvirt.open(uri)


def timed(call):
    for _ in range(20):
        call()
    out = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        out.append(time.perf_counter_ns() - start)
    return out


print("floor", *timed(lambda: conn.getLibVersion()))
if name == "-":  # the instant server of libvirt-floor-server.c: nothing else to ask
    sys.exit(0)
print("lookup-info", *timed(lambda: conn.lookupByName(name).info()))
dom = conn.lookupByName(name)
print("monitor", *timed(lambda: libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)))
conn.close()
