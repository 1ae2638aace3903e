#!/usr/bin/env python3
"""Guest-to-host TCP throughput through a VirtKit network (issue 16), side by side in one run.

One test guest (TCG, q35, 128 MiB) with two virtio NICs, in a network namespace of its own
(`ip netns`: virtkitd, QEMU, dnsmasq and the sink all run in it; the host's networking is
never touched):
  user   eth0, QEMU's user-mode networking (slirp), to 10.0.2.2 (the namespace's loopback)
  nat    eth1, on libvirt's default network (Examples/default-network.xml) started by virtkitd (a bridge, a tap, nftables
         masquerading, dnsmasq), to the bridge's address 192.168.122.1
Each round sends N MiB of zeros from the guest (`dd | nc`) to a socat sink on port 5001, once
through each NIC, alternating which goes first; the guest times each from /proc/uptime (10 ms
resolution). Prints every column's median and min MiB/s over R rounds and the ratio nat/user
(goal: far above 1). libvirt's own NAT network (goal: nat within 5% of it) is not measured yet.
Prints figures, never asserts; exits 0 unless something could not run. Everything it started
is stopped and the namespace removed on every way out.

Usage: Benchmarks/compare-network.py [--mib N] [--rounds R] [--bin DIR]   (as root)
  N defaults to 32, R to 5; DIR to .build/release, else .build/debug.
Needs: iproute2, nftables, dnsmasq-base, socat, qemu-system-x86, the test guest
  (Scripts/build-test-guest.sh).
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

GUEST = os.environ.get("VIRTKIT_GUEST_DIR", "/var/cache/virtkit/guest")


def domain_xml(serial):
    return f"""<domain type='qemu'>
  <name>netbench</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{GUEST}/vmlinux</kernel>
    <initrd>{GUEST}/initrd.img</initrd>
    <cmdline>console=ttyS0 mitigations=off cryptomgr.notests no_timer_check</cmdline>
  </os>
  <devices>
    <serial type='unix'><source mode='bind' path='{serial}'/></serial>
    <interface type='user'><model type='virtio'/></interface>
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
  </devices>
</domain>
"""


class Serial:
    """The guest's serial console: send a line, read until a marker."""

    def __init__(self, path, deadline=60):
        end = time.time() + deadline
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > end:
                    raise
                time.sleep(0.1)
        self.text = ""

    def until(self, marker, timeout):
        end = time.time() + timeout
        while marker not in self.text:
            left = end - time.time()
            if left <= 0:
                raise RuntimeError(f"no '{marker}' from the guest in {timeout} s; last output: {self.text[-300:]!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("the guest's console closed")
            self.text += chunk.decode(errors="replace")
        found = self.text.index(marker) + len(marker)
        before, self.text = self.text[:found], self.text[found:]
        return before

    def run(self, command, marker, timeout=300):
        self.sock.sendall((command + "\n").encode())
        return self.until(marker, timeout)


def send_through(serial, tag, address, mib):
    """MiB/s of `mib` MiB from the guest to address:5001, timed in the guest."""
    blocks = mib * 16  # 64 KiB blocks
    out = serial.run(
        f"s=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero bs=65536 count={blocks} 2>/dev/null | nc {address} 5001; "
        f"e=$(cut -d' ' -f1 /proc/uptime); echo \"T-{tag}\" $s $e E\"\"ND", " END\r\n")
    # The typed line is echoed too, with E""ND: the answer is the line that ends in END.
    line = [l for l in out.splitlines() if l.startswith(f"T-{tag} ")][-1] + " END"
    _, start, end = line.split()[:3]
    return mib / max(float(end) - float(start), 0.01)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bin")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("compare-network: run as root")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin or next((d for d in (f"{repo}/.build/release", f"{repo}/.build/debug")
                               if os.path.exists(f"{d}/virtkitd")), None)
    if not bindir:
        sys.exit("compare-network: build first (swift build), or give --bin DIR")
    for tool in ("ip", "nft", "dnsmasq", "socat"):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            sys.exit(f"compare-network: {tool} is missing (run Scripts/setup.sh)")
    namespace = f"vkbench{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix="vknet-", dir="/tmp")
    children = []
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
        socket_path = f"{workdir}/run/virtkitd.sock"
        log = open(f"{workdir}/virtkitd.out", "w")
        children.append(subprocess.Popen(
            ["ip", "netns", "exec", namespace, f"{bindir}/virtkitd", "--run-dir", f"{workdir}/run",
             "--state-dir", f"{workdir}/state", "--log-dir", f"{workdir}/log", "--config-dir", f"{workdir}/etc"],
            stdout=log, stderr=log, start_new_session=True))
        children.append(subprocess.Popen(
            ["ip", "netns", "exec", namespace, "socat", "-u", "TCP-LISTEN:5001,reuseaddr,fork", "OPEN:/dev/null"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))

        def virtkit(*verb):
            return subprocess.run([f"{bindir}/virtkit", "-c", f"virtkit+unix://{socket_path}", *verb],
                                  check=True, capture_output=True, text=True).stdout

        for _ in range(300):
            if os.path.exists(socket_path):
                break
            time.sleep(0.1)
        with open(f"{workdir}/netbench.xml", "w") as f:
            f.write(domain_xml(f"{workdir}/serial.sock"))
        virtkit("net-define", f"{repo}/Examples/default-network.xml")
        virtkit("net-start", "default")
        virtkit("define", f"{workdir}/netbench.xml")
        virtkit("start", "netbench")
        serial = Serial(f"{workdir}/serial.sock")
        serial.until("VIRTKIT-GUEST-READY", 180)
        serial.run("ip -4 -o addr show eth1 | grep -q 192.168.122 && echo HAS-$((1+1))-ADDR", "HAS-2-ADDR", 60)

        columns = {"user": [], "nat": []}
        targets = {"user": "10.0.2.2", "nat": "192.168.122.1"}
        for tag in columns:  # untimed warm-up
            send_through(serial, tag, targets[tag], max(1, args.mib // 8))
        for round_ in range(args.rounds):
            order = ["user", "nat"] if round_ % 2 == 0 else ["nat", "user"]
            for tag in order:
                columns[tag].append(send_through(serial, tag, targets[tag], args.mib))
        print(f"guest -> host TCP, {args.mib} MiB a transfer, {args.rounds} rounds (TCG; binaries: {bindir})")
        print(f"{'':6} {'median MiB/s':>13} {'min MiB/s':>10}")
        for tag, values in columns.items():
            print(f"{tag:6} {statistics.median(values):13.1f} {min(values):10.1f}")
        ratio = statistics.median(columns["nat"]) / statistics.median(columns["user"])
        print(f"nat/user: {ratio:.2f}x (goal: far above 1)")
        print("libvirt's NAT network: not measured yet (goal: nat within 5% of it)")
        try:
            virtkit("destroy", "netbench")
            virtkit("net-destroy", "default")
        except subprocess.CalledProcessError as error:
            print(f"compare-network: cleanup: {error.stderr.strip()}", file=sys.stderr)
    finally:
        for child in children:
            try:
                os.killpg(child.pid, 9)
            except ProcessLookupError:
                pass
        subprocess.run(["pkill", "-9", "-f", workdir], check=False)
        subprocess.run(["ip", "netns", "del", namespace], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
