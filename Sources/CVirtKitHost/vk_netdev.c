#define _GNU_SOURCE
#include "vk_netdev.h"
#include <net/if.h>  /* before the kernel's headers: libc-compat then skips linux/if.h's copies */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* One rtnetlink request with its attributes, built in a fixed buffer. */
struct vk_nlreq {
    struct nlmsghdr header;
    char body[1024];
};

static int vk_nl_put(struct vk_nlreq *req, unsigned short type, const void *data, size_t length) {
    size_t offset = NLMSG_ALIGN(req->header.nlmsg_len);
    size_t size = RTA_LENGTH(length);
    if (offset + RTA_ALIGN(size) > sizeof(*req)) return ENOBUFS;
    struct rtattr *attribute = (struct rtattr *)((char *)req + offset);
    attribute->rta_type = type;
    attribute->rta_len = (unsigned short)size;
    if (length) memcpy(RTA_DATA(attribute), data, length);
    req->header.nlmsg_len = (uint32_t)(offset + RTA_ALIGN(size));
    return 0;
}

/* Opens a nested attribute; vk_nl_end closes it. */
static struct rtattr *vk_nl_begin(struct vk_nlreq *req, unsigned short type) {
    struct rtattr *nest = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->header.nlmsg_len));
    if (vk_nl_put(req, type, NULL, 0) != 0) return NULL;
    return nest;
}

static void vk_nl_end(struct vk_nlreq *req, struct rtattr *nest) {
    nest->rta_len = (unsigned short)((char *)req + req->header.nlmsg_len - (char *)nest);
}

/* Sends `req` and waits for the kernel's acknowledgement: 0 or its errno. */
static int vk_nl_talk(struct vk_nlreq *req) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return errno;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    req->header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    req->header.nlmsg_seq = 1;
    int result = 0;
    if (sendto(fd, req, req->header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
        result = errno;
    } else {
        char answer[4096];
        ssize_t n;
        do { n = recv(fd, answer, sizeof(answer), 0); } while (n < 0 && errno == EINTR);
        if (n < 0) {
            result = errno;
        } else {
            struct nlmsghdr *reply = (struct nlmsghdr *)answer;
            if (!NLMSG_OK(reply, (size_t)n) || reply->nlmsg_type != NLMSG_ERROR) {
                result = EPROTO;
            } else {
                struct nlmsgerr *error = (struct nlmsgerr *)NLMSG_DATA(reply);
                result = -error->error;
            }
        }
    }
    close(fd);
    return result;
}

static void vk_nl_link_request(struct vk_nlreq *req, unsigned short type, unsigned short flags, int index) {
    memset(req, 0, sizeof(*req));
    req->header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req->header.nlmsg_type = type;
    req->header.nlmsg_flags = flags;
    struct ifinfomsg *info = (struct ifinfomsg *)NLMSG_DATA(&req->header);
    info->ifi_family = AF_UNSPEC;
    info->ifi_index = index;
}

int vk_bridge_create(const char *name, const uint8_t *mac, uint32_t mtu) {
    if (strlen(name) >= IFNAMSIZ) return ENAMETOOLONG;
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    int rc = vk_nl_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
    if (rc == 0 && mac) rc = vk_nl_put(&req, IFLA_ADDRESS, mac, 6);
    if (rc == 0 && mtu > 0) rc = vk_nl_put(&req, IFLA_MTU, &mtu, sizeof(mtu));
    struct rtattr *linkinfo = rc == 0 ? vk_nl_begin(&req, IFLA_LINKINFO) : NULL;
    if (!linkinfo) return rc ? rc : ENOBUFS;
    rc = vk_nl_put(&req, IFLA_INFO_KIND, "bridge", strlen("bridge"));
    if (rc) return rc;
    vk_nl_end(&req, linkinfo);
    return vk_nl_talk(&req);
}

int vk_link_delete(const char *name) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_DELLINK, 0, (int)index);
    return vk_nl_talk(&req);
}

int vk_link_set_up(const char *name, int up) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_NEWLINK, 0, (int)index);
    struct ifinfomsg *info = (struct ifinfomsg *)NLMSG_DATA(&req.header);
    info->ifi_change = IFF_UP;
    info->ifi_flags = up ? IFF_UP : 0;
    return vk_nl_talk(&req);
}

int vk_link_set_mtu(const char *name, uint32_t mtu) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_NEWLINK, 0, (int)index);
    int rc = vk_nl_put(&req, IFLA_MTU, &mtu, sizeof(mtu));
    return rc ? rc : vk_nl_talk(&req);
}

int vk_link_set_mac(const char *name, const uint8_t *mac) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_NEWLINK, 0, (int)index);
    int rc = vk_nl_put(&req, IFLA_ADDRESS, mac, 6);
    return rc ? rc : vk_nl_talk(&req);
}

int vk_link_set_master(const char *name, const char *bridge) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    uint32_t master = 0;
    if (bridge) {
        master = if_nametoindex(bridge);
        if (master == 0) return errno ? errno : ENODEV;
    }
    struct vk_nlreq req;
    vk_nl_link_request(&req, RTM_NEWLINK, 0, (int)index);
    int rc = vk_nl_put(&req, IFLA_MASTER, &master, sizeof(master));
    return rc ? rc : vk_nl_talk(&req);
}

int vk_address_add(const char *name, int family, const uint8_t *address, unsigned prefix) {
    unsigned index = if_nametoindex(name);
    if (index == 0) return errno ? errno : ENODEV;
    size_t length = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (length == 0 || prefix > length * 8) return EINVAL;
    struct vk_nlreq req;
    memset(&req, 0, sizeof(req));
    req.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.header.nlmsg_type = RTM_NEWADDR;
    req.header.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    struct ifaddrmsg *info = (struct ifaddrmsg *)NLMSG_DATA(&req.header);
    info->ifa_family = (unsigned char)family;
    info->ifa_prefixlen = (unsigned char)prefix;
    info->ifa_index = index;
    int rc = vk_nl_put(&req, IFA_LOCAL, address, length);
    if (rc == 0) rc = vk_nl_put(&req, IFA_ADDRESS, address, length);
    if (rc == 0 && family == AF_INET && prefix < 31) {
        uint8_t broadcast[4];
        for (int i = 0; i < 4; i++) {
            int bits = (int)prefix - i * 8;
            uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
            broadcast[i] = address[i] | (uint8_t)~mask;
        }
        rc = vk_nl_put(&req, IFA_BROADCAST, broadcast, 4);
    }
    return rc ? rc : vk_nl_talk(&req);
}

int vk_tap_open(const char *name, int vnet_hdr, char *actual) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    request.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    snprintf(actual, IFNAMSIZ, "%s", request.ifr_name);
    return fd;
}
