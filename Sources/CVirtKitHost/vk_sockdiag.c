#define _GNU_SOURCE
#include "vk_sockdiag.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

/// Fills the request's id with the peer's socket as the kernel names it: its source is the
/// remote end of our connection, its destination our end.
static int fill_id(struct inet_diag_req_v2 *req, const struct sockaddr *local, const struct sockaddr *remote) {
    if (local->sa_family != remote->sa_family) return EAFNOSUPPORT;
    if (remote->sa_family == AF_INET) {
        const struct sockaddr_in *l = (const struct sockaddr_in *)local;
        const struct sockaddr_in *r = (const struct sockaddr_in *)remote;
        req->id.idiag_sport = r->sin_port;
        req->id.idiag_dport = l->sin_port;
        memcpy(req->id.idiag_src, &r->sin_addr, sizeof r->sin_addr);
        memcpy(req->id.idiag_dst, &l->sin_addr, sizeof l->sin_addr);
    } else if (remote->sa_family == AF_INET6) {
        const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)local;
        const struct sockaddr_in6 *r = (const struct sockaddr_in6 *)remote;
        req->id.idiag_sport = r->sin6_port;
        req->id.idiag_dport = l->sin6_port;
        memcpy(req->id.idiag_src, &r->sin6_addr, sizeof r->sin6_addr);
        memcpy(req->id.idiag_dst, &l->sin6_addr, sizeof l->sin6_addr);
    } else {
        return EAFNOSUPPORT;
    }
    req->sdiag_family = remote->sa_family;
    return 0;
}

int vk_tcp_peer_uid(const struct sockaddr *local, const struct sockaddr *remote, uint32_t *uid) {
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    // No NLM_F_DUMP: an exact lookup by the four-tuple, not a walk over every socket.
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    int failure = fill_id(&message.request, local, remote);
    if (failure != 0) return failure;

    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return errno;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        failure = errno;
        close(fd);
        return failure;
    }
    // One answer: an inet_diag_msg (plus attributes we did not ask for) or an error.
    char answer[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    ssize_t length;
    do {
        length = recv(fd, answer, sizeof answer, 0);
    } while (length < 0 && errno == EINTR);
    failure = length < 0 ? errno : 0;
    close(fd);
    if (failure != 0) return failure;

    struct nlmsghdr *reply = (struct nlmsghdr *)answer;
    if (!NLMSG_OK(reply, (unsigned int)length)) return EPROTO;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *error = NLMSG_DATA(reply);
        if (reply->nlmsg_len < NLMSG_LENGTH(sizeof *error)) return EPROTO;
        return error->error == 0 ? EPROTO : -error->error;
    }
    if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY || reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        return EPROTO;
    const struct inet_diag_msg *found = NLMSG_DATA(reply);
    // A socket in TIME_WAIT has no owner any more: treat it as gone.
    if (found->idiag_inode == 0) return ENOENT;
    *uid = found->idiag_uid;
    return 0;
}
