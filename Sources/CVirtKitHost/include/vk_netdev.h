#ifndef VK_NETDEV_H
#define VK_NETDEV_H
#include <stdint.h>

/// Host network devices for VirtKit's networks and tap interfaces, through rtnetlink (as
/// libvirt's virnetdev*.c) and the tun driver. Every function returns 0 or an errno value.

/// A bridge named `name` with MAC `mac` (6 bytes) and, when `mtu` > 0, that MTU; EEXIST when a
/// link of that name exists.
int vk_bridge_create(const char *name, const uint8_t *mac, uint32_t mtu);

/// Removes the link `name` (a bridge or a tap).
int vk_link_delete(const char *name);

/// Sets link `name` up or down.
int vk_link_set_up(const char *name, int up);

/// Sets link `name`'s MTU.
int vk_link_set_mtu(const char *name, uint32_t mtu);

/// Sets link `name`'s MAC address (6 bytes).
int vk_link_set_mac(const char *name, const uint8_t *mac);

/// Makes link `name` a port of bridge `bridge` (or of no bridge, when `bridge` is NULL).
int vk_link_set_master(const char *name, const char *bridge);

/// Adds `address` (4 or 16 bytes, `family` AF_INET or AF_INET6) with `prefix` to link `name`;
/// an IPv4 address gets its broadcast address too.
int vk_address_add(const char *name, int family, const uint8_t *address, unsigned prefix);

/// Opens a tap: `name` is its name or a template with "%d"; the kernel's name is written to
/// `actual` (at least 16 bytes). `vnet_hdr`: with IFF_VNET_HDR (virtio and e1000e models).
/// The tap is not persistent: it goes when the last descriptor closes. Returns the descriptor
/// (close-on-exec) or -errno.
int vk_tap_open(const char *name, int vnet_hdr, char *actual);
#endif
