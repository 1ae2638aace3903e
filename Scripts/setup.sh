#!/bin/bash
# Installs what VirtKit needs on Debian 12 (run as root): libxml2 for the parser, and QEMU with
# libvirt 9.0 as the reference the tests compare against; iproute2, nftables and dnsmasq for
# networks (used by the tests only inside network namespaces of their own). Safe to run again.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (sudo Scripts/setup.sh)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    libxml2-dev libxml2-utils pkg-config python3 \
    qemu-system-x86 qemu-utils libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients \
    socat kmod cpio xz-utils libglib2.0-0 libnuma1 libudev1 liburing2 python3-libvirt \
    openssh-server openssh-client netcat-openbsd virtinst curl \
    iproute2 nftables dnsmasq-base >/dev/null
# Debian's libvirt-daemon-system normally creates the user its QEMU driver is built to run
# guests as; the embedded driver used for the reference checks needs it to exist.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || \
    useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin -g libvirt-qemu libvirt-qemu
echo "setup.sh: done ($(qemu-system-x86_64 --version | head -1); $(virsh --version) libvirt)"
