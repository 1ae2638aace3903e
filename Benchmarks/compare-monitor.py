#!/usr/bin/env python3
"""Helper of Benchmarks/compare-monitor.sh (not meant to be run by hand).

  compare-monitor.py bare-argv ARGV_FILE WORKDIR HMP_SOCKET OUT_FILE
      Rewrites the libvirt paths of the pretend argv (one argument a line, from `virtkit
      domxml-to-native qemu-argv FILE --lines`) into WORKDIR (as compare-start.py does), drops -S
      (the guest runs at once), adds `-monitor unix:HMP_SOCKET,server=on,wait=off`, writes the argv
      NUL-separated to OUT_FILE and prints the path of its QMP socket.

  compare-monitor.py measure --runs N --virtkit PATH --name NAME [--virsh-uri URI]
                             --vk-interactive PATH --vk-command PATH --hmp PATH --qmp PATH
      The one-shot runs (interleaved, one untimed warm-up each, every answer checked), then the
      warm-connection round trips; prints the tables. Exit status 1 with a message when a tool
      could not answer.
"""
import argparse
import importlib.util
import json
import math
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

WARM_TRIPS = 2000
WARM_UP = 50  # untimed round trips before the timed ones
HMP_CMD = "info status"
QMP_CMD = '{"execute":"query-status"}'


class Failure(Exception):
    pass


def bare_argv(argv_file, workdir, hmp, out):
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("compare_start", os.path.join(here, "compare-start.py"))
    cs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cs)
    with open(argv_file) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    os.makedirs(workdir, exist_ok=True)
    argv, qmp = cs.rewrite_argv(lines, workdir)
    argv = [a for a in argv if a != "-S"] + ["-monitor", f"unix:{hmp},server=on,wait=off"]
    with open(out, "w") as f:
        f.write("\0".join(argv) + "\0")
    print(qmp)


# --- one-shot -------------------------------------------------------------------------------------

def hmp_done(buf):
    """QEMU's HMP over a socket: banner, prompt, the echoed line, the answer, the next prompt."""
    i = buf.find(b"VM status")
    return i >= 0 and buf.find(b"(qemu) ", i) >= 0


def qmp_replies(buf):
    """The replies (not the greeting, not events) among the complete lines of buf."""
    out = []
    for line in buf.split(b"\n")[:-1]:
        line = line.strip()
        if line.startswith(b"{"):
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                out.append(msg)
    return out


def qmp_done(buf):  # qmp_capabilities' reply and query-status'
    return len(qmp_replies(buf)) >= 2


def run_once(argv, stdin_bytes, done, check):
    """Spawns argv and feeds it stdin_bytes; returns the ns from spawn until done(stdout) (None:
    until stdout's end, i.e. the process exited), and the output. stdin stays open until then."""
    deadline = time.monotonic() + 20
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if stdin_bytes is not None:
        proc.stdin.write(stdin_bytes)
        proc.stdin.flush()
    fd = proc.stdout.fileno()
    buf = b""
    t1 = None
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                t1 = time.perf_counter_ns()
                break
            buf += chunk
            if done is not None and done(buf):
                t1 = time.perf_counter_ns()
                break
    if proc.stdin:
        proc.stdin.close()  # socat: shuts its socket down, the monitor closes, socat exits
        proc.stdin = None
    try:
        err = proc.communicate(timeout=5)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        err = proc.communicate()[1]
    if t1 is None or (done is None and proc.returncode != 0) or not check(buf):
        what = "no answer within 20 s" if t1 is None else f"exit status {proc.returncode}"
        raise Failure(f"{' '.join(argv)}: {what}: {(buf + err).decode(errors='replace').strip()[-400:]}")
    return t1 - t0


def oneshot_cases(a):
    vk = [a.virtkit, "qemu-monitor-command", a.name]
    hmp_ok = lambda b: b"VM status:" in b
    qmp_ok = lambda b: b'"status"' in b and b'"error"' not in b
    socat = ["socat", "-t", "0.1", "-", None]
    cases = [  # key, label, argv, stdin, done, check
        ("vk-hmp", "virtkit", vk + ["--hmp", HMP_CMD], None, None, hmp_ok),
        ("vk-qmp", "virtkit", vk + [QMP_CMD], None, None, qmp_ok),
    ]
    if a.virsh_uri:
        virsh = ["virsh", "-q", "-c", a.virsh_uri, "qemu-monitor-command", a.name]
        cases += [
            ("virsh-hmp", "virsh", virsh + ["--hmp", HMP_CMD], None, None, hmp_ok),
            ("virsh-qmp", "virsh", virsh + [QMP_CMD], None, None, qmp_ok),
        ]
    cases += [
        ("direct-hmp", "direct", socat[:-1] + [f"UNIX-CONNECT:{a.hmp}"], (HMP_CMD + "\n").encode(), hmp_done, hmp_ok),
        ("direct-qmp", "direct", socat[:-1] + [f"UNIX-CONNECT:{a.qmp}"],
         b'{"execute":"qmp_capabilities"}\n' + QMP_CMD.encode() + b"\n", qmp_done,
         lambda b: qmp_done(b) and "status" in qmp_replies(b)[1].get("return", {})),
        ("vkcmd-hmp", "vkcmd", socat[:-1] + [f"UNIX-CONNECT:{a.vk_command}"], (HMP_CMD + "\n").encode(),
         lambda b: b"VM status" in b and b.endswith(b"\n"), hmp_ok),
        ("vkcmd-qmp", "vkcmd", socat[:-1] + [f"UNIX-CONNECT:{a.vk_command}"], (QMP_CMD + "\n").encode(),
         lambda b: len(qmp_replies(b)) >= 1, qmp_ok),
        ("vk-help", "floor", [a.virtkit, "--help"], None, None, lambda b: True),
    ]
    return cases


# --- warm connection ------------------------------------------------------------------------------

class Lines:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""

    def read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("connection closed")
            self.buf += chunk
        i = self.buf.index(marker) + len(marker)
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def reply(self, want_id=None):
        """The next reply (skipping events), with id want_id when given."""
        while True:
            msg = json.loads(self.read_until(b"\n"))
            if ("return" in msg or "error" in msg) and msg.get("id") == want_id:
                if "error" in msg:
                    raise Failure(f"error reply: {msg}")
                return msg


def warm(path, kind, trips):
    conn = Lines(path)
    if kind == "virtkit":
        conn.read_until(b"(qemu) ")  # the HMP banner and prompt; the first JSON line makes it QMP
    else:
        greeting = json.loads(conn.read_until(b"\n"))
        if "QMP" not in greeting:
            raise Failure(f"no QMP greeting: {greeting}")
    conn.sock.sendall(b'{"execute":"qmp_capabilities"}\n')
    conn.reply()
    lat = []
    for i in range(-WARM_UP, trips):
        line = b'{"execute":"query-status","id":%d}\n' % i
        t0 = time.perf_counter_ns()
        conn.sock.sendall(line)
        msg = conn.reply(i)
        t1 = time.perf_counter_ns()
        if i >= 0:
            lat.append(t1 - t0)
        if "status" not in msg["return"]:
            raise Failure(f"unexpected reply: {msg}")
    conn.sock.close()
    return lat


# --- report ---------------------------------------------------------------------------------------

def pct(vals, p):  # nearest rank
    s = sorted(vals)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ms(ns):
    return ns / 1e6


def measure(a):
    cases = oneshot_cases(a)
    res = {c[0]: [] for c in cases}
    try:
        for c in cases:  # warm-up, untimed; checks each answer once
            run_once(*c[2:])
        for _ in range(a.runs):
            for c in cases:
                res[c[0]].append(run_once(*c[2:]))
    except Failure as e:
        raise SystemExit(f"compare-monitor: one-shot run failed: {e}")

    def cell(key):
        v = res.get(key)
        return f"{ms(statistics.median(v)):9.2f} {ms(pct(v, 90)):8.2f}" if v else f"{'n/a':>9} {'':8}"

    print(f"1. one-shot monitor command, process start to answer ({a.runs} runs each, interleaved, after one warm-up)")
    print(f"{'':46} {'HMP info status':>18}   {'QMP query-status':>18}")
    print(f"{'':46} {'median ms':>9} {'p90 ms':>8}   {'median ms':>9} {'p90 ms':>8}")
    rows = [("vk", "virtkit qemu-monitor-command (virtkitd)"),
            ("virsh", "virsh qemu-monitor-command (libvirtd 9.0)"),
            ("direct", "socat to a bare QEMU's monitor socket"),
            ("vkcmd", "  ref: socat to virtkitd's command socket")]
    for key, label in rows:
        if key == "virsh" and not a.virsh_uri:
            print(f"{label:46} {'skipped':>9}")
            continue
        print(f"{label:46} {cell(key + '-hmp')}   {cell(key + '-qmp')}")
    print(f"{'  ref: virtkit --help (front + virtkit-cli)':46} {cell('vk-help')}")

    def ratio(other, goal, name):
        parts = []
        met = True
        for proto in ("hmp", "qmp"):
            vk, ot = res.get("vk-" + proto), res.get(f"{other}-{proto}")
            if not vk or not ot:
                return print(f"ratio virtkit/{name}: n/a")
            r = statistics.median(vk) / statistics.median(ot)
            r90 = pct(vk, 90) / pct(ot, 90)
            met = met and r <= goal
            parts.append(f"{proto.upper()} {r:.2f} (p90 {r90:.2f})")
        print(f"ratio virtkit/{name} (medians): {', '.join(parts)}; goal <= {goal}: {'met' if met else 'NOT met'}")

    ratio("virsh", 0.5, "virsh")
    ratio("direct", 1.2, "direct socket")

    print()
    print(f"2. warm connection: {WARM_TRIPS} sequential query-status round trips (after {WARM_UP} untimed)")
    print(f"{'':46} {'p50 ms':>9} {'p99 ms':>8} {'mean ms':>8}")
    p50 = None
    for kind, path, label in (("virtkit", a.vk_interactive, "virtkitd interactive socket, QMP session"),
                              ("qemu", a.qmp, "bare QEMU QMP socket (reference)")):
        try:
            lat = warm(path, kind, WARM_TRIPS)
        except (Failure, OSError, ValueError) as e:
            raise SystemExit(f"compare-monitor: warm round trips on {path} failed: {e}")
        print(f"{label:46} {ms(pct(lat, 50)):9.3f} {ms(pct(lat, 99)):8.3f} {ms(statistics.fmean(lat)):8.3f}")
        if kind == "virtkit":
            p50 = ms(pct(lat, 50))
    print(f"goal virtkit warm p50 < 0.2 ms: {'met' if p50 < 0.2 else 'NOT met'}")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) == 6 and sys.argv[1] == "bare-argv":
        return bare_argv(*sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "measure":
        p = argparse.ArgumentParser(prog="compare-monitor.py measure")
        p.add_argument("--runs", type=int, required=True)
        p.add_argument("--virtkit", required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--virsh-uri")
        for opt in ("--vk-interactive", "--vk-command", "--hmp", "--qmp"):
            p.add_argument(opt, required=True)
        return measure(p.parse_args(sys.argv[2:]))
    sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
