#!/usr/bin/python3
"""Sends a fixed list of libvirt RPC calls to a libvirt socket and writes each reply packet (the
bytes after the length word) as hex, one file per call, into DIR. Run against a private libvirtd
9.0 by Scripts/libvirt-rpc-capture.sh; the tests replay the same calls against virtkitd and
compare (Tests/Golden/libvirt-rpc).

Usage: libvirt-rpc-capture.py SOCKET DIR DOMAIN_XML_FILE
"""
import os
import socket
import struct
import sys

REMOTE = 0x20008086


def xdr_string(text):
    data = text.encode()
    return struct.pack(">I", len(data)) + data + b"\0" * ((4 - len(data) % 4) % 4)


def main():
    path, out, xml_file = sys.argv[1:4]
    xml = open(xml_file).read()
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    serial = 0

    def call(label, procedure, payload=b"", program=REMOTE):
        nonlocal serial
        header = struct.pack(">IIiIIi", program, 1, procedure, 0, serial, 0)
        sock.sendall(struct.pack(">I", 4 + len(header) + len(payload)) + header + payload)
        serial += 1
        length = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))[0]
        body = sock.recv(length - 4, socket.MSG_WAITALL)
        with open(os.path.join(out, label + ".hex"), "w") as f:
            f.write(body.hex() + "\n")
        return body

    call("auth-list", 66)
    call("supports-feature-keepalive", 60, struct.pack(">i", 10))
    call("open", 1, struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0))
    call("lib-version", 157)
    call("lookup-missing", 23, xdr_string("nosuchdomain"))
    defined = call("define", 11, xdr_string(xml))
    domain = defined[24:]  # remote_nonnull_domain as libvirtd wrote it
    call("list-all", 273, struct.pack(">iI", 1, 3))
    call("get-state", 212, domain + struct.pack(">I", 0))
    call("get-info", 16, domain)
    call("is-active", 150, domain)
    call("is-persistent", 151, domain)
    call("get-autostart", 15, domain)
    call("os-type", 19, domain)
    call("unknown-procedure", 9999)
    call("undefine", 35, domain)
    call("close", 2)


main()
