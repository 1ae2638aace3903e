#!/usr/bin/env python3
"""Helper of Benchmarks/compare-start.sh (not meant to be run by hand).

  compare-start.py bare ARGV_FILE WORKDIR
      One bare-QEMU run: rewrites the libvirt paths of the pretend argv (one argument a line,
      from `virtkit domxml-to-native qemu-argv FILE --lines`) into WORKDIR, spawns QEMU, connects
      to the path-based QMP monitor, reads the greeting, sends qmp_capabilities, query-status and
      cont (the argv has -S). Prints the nanoseconds from spawn to the cont answer, then quits QEMU (SIGKILL as a
      fallback) and removes WORKDIR.  Exit status 1 with a message when QEMU failed.

  compare-start.py report RESULTS_DIR RUNS
      Reads RESULTS_DIR/{virtkit,bare,libvirt}.ns (one figure a line, ns) and prints the table.
"""
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

LIBVIRT_QEMU_DIR = "/var/lib/libvirt/qemu"


def rewrite_argv(lines, workdir):
    """Point every /var/lib/libvirt/qemu path into workdir; returns (argv, monitor socket path)."""
    root = os.path.join(workdir, "q")
    argv = [line.replace(LIBVIRT_QEMU_DIR, root) for line in lines]
    monitor = None
    for i, arg in enumerate(argv):
        if arg.startswith("{") and root in arg:  # a JSON object with a path (the master key)
            obj = json.loads(arg)
            path = obj.get("file")
            if path:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(os.urandom(32))
        elif root in arg:  # -chardev socket,id=...,path=...,server=on,wait=off
            for opt in arg.split(","):
                if opt.startswith("path="):
                    path = opt[len("path="):]
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    if "id=charmonitor" in arg:
                        monitor = path
    if monitor is None:
        raise SystemExit("compare-start.py: no path-based monitor chardev (id=charmonitor) in the argv")
    return argv, monitor


class QMP:
    def __init__(self, path, deadline):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:  # the socket appears once QEMU has parsed its chardevs
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise TimeoutError("QMP socket never answered")
                time.sleep(0.0005)
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        self.buf = b""

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name):
        self.sock.sendall(json.dumps({"execute": name}).encode() + b"\n")
        while True:
            msg = self.read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"{name}: {msg['error']}")
            # an event: keep reading


def bare(argv_file, workdir):
    with open(argv_file) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    os.makedirs(workdir, exist_ok=True)
    proc = None
    try:
        argv, monitor = rewrite_argv(lines, workdir)
        env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        errlog = open(os.path.join(workdir, "qemu.err"), "w+")
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errlog, env=env)
        try:
            qmp = QMP(monitor, time.monotonic() + 30)
            greeting = qmp.read()
            assert "QMP" in greeting, greeting
            qmp.command("qmp_capabilities")
            qmp.command("query-status")
            # The argv starts QEMU paused (-S), as libvirt's does: a real start is not done until
            # the CPUs run, so the bare run sends `cont` too, as virtkit and libvirt do.
            qmp.command("cont")
            t1 = time.perf_counter_ns()
        except Exception as e:
            errlog.seek(0)
            msg = errlog.read().strip()
            raise SystemExit(f"bare QEMU failed: {e}" + (f"\n{msg}" if msg else ""))
        print(t1 - t0)
        try:
            qmp.command("quit")
        except Exception:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def p25(vals):
    """The 25th percentile: the runs that missed the slow huge-page case still count, one outlier less."""
    return statistics.quantiles(vals, n=4, method="inclusive")[0] if len(vals) > 1 else vals[0]


def bootstrap_interval(a, b, rounds=2000):
    """A 90% bootstrap interval of median(a) / median(b): how far the ratio of medians could move
    between runs of the same code on the same machine (each column resampled on its own)."""
    rng = random.Random(1)  # seeded: the same figures give the same interval
    ratios = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
                    for _ in range(rounds))
    return ratios[int(rounds * 0.05)], ratios[int(rounds * 0.95) - 1]


def report(results, runs):
    rows = {}
    for key, label in (("virtkit", "virtkit define + start"),
                       ("bare", "bare QEMU spawn -> QMP cont"),
                       ("libvirt", "libvirt 9.0 virsh define + start")):
        path = os.path.join(results, key + ".ns")
        vals = []
        if os.path.exists(path):
            with open(path) as f:
                vals = [int(x) / 1e6 for x in f.read().split()]
        rows[key] = (label, vals)
    print(f"{'':38} {'median ms':>10} {'p25 ms':>9} {'min ms':>9} {'runs':>5}")
    for key, (label, vals) in rows.items():
        if vals:
            print(f"{label:38} {statistics.median(vals):10.1f} {p25(vals):9.1f} {min(vals):9.1f} {len(vals):5d}")
            if os.environ.get("BENCH_RAW"):
                print(f"{'':38} all: " + " ".join(f"{v:.0f}" for v in sorted(vals)))
        else:
            print(f"{label:38} {'skipped':>10}")
    for key, tool in (("virtkit", "virtkit"), ("libvirt", "virsh")):
        path = os.path.join(results, key + ".split")
        if rows[key][1] and os.path.exists(path):
            with open(path) as f:
                pairs = [tuple(int(x) / 1e6 for x in line.split()) for line in f if line.strip()]
            print(f"  {tool}: define {statistics.median(p[0] for p in pairs):.1f} ms + "
                  f"start {statistics.median(p[1] for p in pairs):.1f} ms (medians)")
    path = os.path.join(results, "cli.ns")
    if os.path.exists(path):
        with open(path) as f:
            cli = [int(x) / 1e6 for x in f.read().split()]
        print(f"  reference: virtkit --help (the front, then exec of virtkit-cli): {statistics.median(cli):.1f} ms median")
    vk = rows["virtkit"][1]

    def ratio(other, goal, name):
        vals = rows[other][1]
        if not vk or not vals:
            print(f"ratio virtkit/{name}: n/a")
            return
        med = statistics.median(vk) / statistics.median(vals)
        low = p25(vk) / p25(vals)
        mn = min(vk) / min(vals)
        met = "met" if med <= goal else "NOT met"
        lo, hi = bootstrap_interval(vk, vals)
        print(f"ratio virtkit/{name}: {med:.2f} median (90% interval {lo:.2f}-{hi:.2f}), {low:.2f} p25, "
              f"{mn:.2f} min (goal <= {goal}: {met})")

    ratio("libvirt", 0.5, "libvirt")
    ratio("bare", 1.2, "bare")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) == 4 and sys.argv[1] == "bare":
        bare(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
