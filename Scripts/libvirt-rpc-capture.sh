#!/bin/bash
# Records libvirt 9.0's own replies to a fixed list of RPC calls (Scripts/libvirt-rpc-capture.py)
# into Tests/Golden/libvirt-rpc, from a private libvirtd started as Benchmarks/compare-start.sh
# starts one (a private mount namespace, QEMU as root). The tests send the same calls to virtkitd
# and compare. Run as root after a change to the calls; the files are committed.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bench=libvirt-rpc-capture
. "$repo/Benchmarks/bench-common.sh"
bindir=.build/debug
runs=1
bench_setup
[ -z "$libvirt_skip" ] || fail "$libvirt_skip"
cat >"$T/golden.xml" <<'XML'
<domain type='qemu'>
  <name>rpcgolden</name>
  <uuid>3f0c9a4e-51d2-4b7e-8c61-0d2e9b7a4c15</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
</domain>
XML
bench_start_libvirtd
[ -z "$libvirt_skip" ] || fail "$libvirt_skip"
rm -f Tests/Golden/libvirt-rpc/*.hex
/usr/bin/python3 Scripts/libvirt-rpc-capture.py "$R/libvirt/libvirt-sock" Tests/Golden/libvirt-rpc "$T/golden.xml" || fail "capture failed"
cp "$T/golden.xml" Tests/Golden/libvirt-rpc/domain.xml
ls Tests/Golden/libvirt-rpc
