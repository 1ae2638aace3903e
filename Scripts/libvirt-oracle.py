#!/usr/bin/python3
"""libvirt 9.0 as a reference: many domain XMLs through one embedded QEMU driver.

Usage: libvirt-oracle.py OUTDIR FILE.xml...
       libvirt-oracle.py --capabilities OUTDIR

For each FILE.xml (basename NAME) this writes into OUTDIR:
  NAME.args      the QEMU argv of `virsh domxml-to-native qemu-argv`, one argument a line,
                 leading environment assignments dropped, embed-root paths rewritten to the
                 paths of qemu:///system
  NAME.args.err  libvirt's error message, if it refused to build the argv
  NAME.dump.xml  `virsh dumpxml --inactive` after `define`
  NAME.dump.err  libvirt's error message, if define refused the XML

With --capabilities it writes libvirt's answers about the host instead:
  capabilities.xml                   virConnectGetCapabilities
  domcapabilities.MACHINE.TYPE.xml   virConnectGetDomainCapabilities for q35 and pc, qemu and kvm
  domcapabilities.bad-machine.err    the error for a machine QEMU does not have
  domcapabilities.bad-arch.err       the error for an architecture no emulator serves

It talks to libvirt.so.0 through ctypes (no python3-libvirt needed) with the embedded driver
(qemu:///embed?root=DIR): no daemon, no sockets. The root's qemu.conf runs QEMU as root so that
the capabilities probe and the cache's KVM check agree (with the default 'libvirt-qemu' user the
cache is judged stale on every connection and QEMU is probed again, which takes seconds).
The probed capabilities are kept in $VIRTKIT_ORACLE_CACHE (default /tmp/virtkit-libvirt-oracle).
"""
import ctypes
import ctypes.util
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

CACHE = os.environ.get("VIRTKIT_ORACLE_CACHE", "/tmp/virtkit-libvirt-oracle")
SEED = os.path.join(CACHE, "seed")
QEMU_CONF = 'user = "root"\ngroup = "root"\n'

os.environ.setdefault("LIBVIRT_LOG_OUTPUTS", "1:file:/dev/null")


def prepare_root(root):
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(os.path.join(root, "etc", "qemu.conf"), "w") as f:
        f.write(QEMU_CONF)


def ensure_seed():
    if glob.glob(SEED + "/cache/qemu/capabilities/*.xml"):
        return
    prepare_root(SEED)
    subprocess.run(["virsh", "-q", "-c", f"qemu:///embed?root={SEED}", "version"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if not glob.glob(SEED + "/cache/qemu/capabilities/*.xml"):
        sys.exit("libvirt-oracle: probing QEMU through libvirt's embedded driver failed")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    capabilities = sys.argv[1] == "--capabilities"
    outdir, files = (sys.argv[2], []) if capabilities else (sys.argv[1], sys.argv[2:])
    lv = ctypes.CDLL("libvirt.so.0")
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.free.argtypes = [ctypes.c_void_p]
    lv.virConnectOpen.restype = ctypes.c_void_p
    lv.virConnectOpen.argtypes = [ctypes.c_char_p]
    lv.virConnectClose.argtypes = [ctypes.c_void_p]
    lv.virConnectDomainXMLToNative.restype = ctypes.c_void_p
    lv.virConnectDomainXMLToNative.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
    lv.virDomainDefineXML.restype = ctypes.c_void_p
    lv.virDomainDefineXML.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lv.virDomainGetXMLDesc.restype = ctypes.c_void_p
    lv.virDomainGetXMLDesc.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lv.virDomainUndefineFlags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lv.virDomainFree.argtypes = [ctypes.c_void_p]
    lv.virConnectGetCapabilities.restype = ctypes.c_void_p
    lv.virConnectGetCapabilities.argtypes = [ctypes.c_void_p]
    lv.virConnectGetDomainCapabilities.restype = ctypes.c_void_p
    lv.virConnectGetDomainCapabilities.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                                   ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
    lv.virGetLastErrorMessage.restype = ctypes.c_char_p
    errfunc_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
    quiet = errfunc_type(lambda userdata, err: None)
    lv.virSetErrorFunc.argtypes = [ctypes.c_void_p, errfunc_type]
    lv.virSetErrorFunc(None, quiet)
    lv.virEventRegisterDefaultImpl()

    def take(ptr):
        text = ctypes.string_at(ptr).decode()
        libc.free(ptr)
        return text

    def last_error():
        m = lv.virGetLastErrorMessage()
        return m.decode() if m else "unknown error"

    os.makedirs(outdir, exist_ok=True)
    ensure_seed()
    root = tempfile.mkdtemp(prefix="root.", dir=CACHE)
    try:
        prepare_root(root)
        os.makedirs(root + "/cache/qemu")
        shutil.copytree(SEED + "/cache/qemu/capabilities", root + "/cache/qemu/capabilities")
        conn = lv.virConnectOpen(f"qemu:///embed?root={root}".encode())
        if not conn:
            sys.exit("libvirt-oracle: cannot open the embedded driver: " + last_error())
        rules = [(root + "/etc/pki/", "/etc/pki/"), (root + "/lib/", "/var/lib/libvirt/"),
                 (root + "/run/", "/run/libvirt/"), (root + "/cache/", "/var/cache/libvirt/"),
                 (root + "/log/", "/var/log/libvirt/"), (root + "/etc/", "/etc/libvirt/")]

        def fix(text):
            for a, b in rules:
                text = text.replace(a, b)
            return text

        if capabilities:
            write_capabilities(lv, conn, outdir, take, last_error)
        for path in files:
            name = os.path.basename(path)[:-4]
            xml = open(path).read().encode()
            for ext in (".args", ".args.err", ".dump.xml", ".dump.err"):
                try:
                    os.unlink(os.path.join(outdir, name + ext))
                except FileNotFoundError:
                    pass
            p = lv.virConnectDomainXMLToNative(conn, b"qemu-argv", xml, 0)
            if p:
                args = shlex.split(fix(take(p)))
                while args and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", args[0]):
                    args.pop(0)
                with open(os.path.join(outdir, name + ".args"), "w") as f:
                    f.write("".join(a + "\n" for a in args))
            else:
                with open(os.path.join(outdir, name + ".args.err"), "w") as f:
                    f.write(last_error() + "\n")
            dom = lv.virDomainDefineXML(conn, xml)
            if dom:
                x = lv.virDomainGetXMLDesc(dom, 2)  # VIR_DOMAIN_XML_INACTIVE
                with open(os.path.join(outdir, name + ".dump.xml"), "w") as f:
                    f.write(fix(take(x)) if x else "")
                lv.virDomainUndefineFlags(dom, 4)  # VIR_DOMAIN_UNDEFINE_NVRAM
                lv.virDomainFree(dom)
            else:
                with open(os.path.join(outdir, name + ".dump.err"), "w") as f:
                    f.write(last_error() + "\n")
        lv.virConnectClose(conn)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def write_capabilities(lv, conn, outdir, take, last_error):
    def save(name, ptr):
        with open(os.path.join(outdir, name), "w") as f:
            f.write(take(ptr) if ptr else last_error() + "\n")

    save("capabilities.xml", lv.virConnectGetCapabilities(conn))
    for machine in ("q35", "pc"):
        for virttype in ("qemu", "kvm"):
            save(f"domcapabilities.{machine}.{virttype}.xml",
                 lv.virConnectGetDomainCapabilities(conn, None, None, machine.encode(), virttype.encode(), 0))
    for name, arch, machine in (("bad-machine", None, b"foo"), ("bad-arch", b"aarch64", None)):
        ptr = lv.virConnectGetDomainCapabilities(conn, None, arch, machine, None, 0)
        save(f"domcapabilities.{name}.err", ptr)


main()
