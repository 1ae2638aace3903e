#ifndef VK_SOCKDIAG_H
#define VK_SOCKDIAG_H
#include <stdint.h>
#include <sys/socket.h>

/// The uid that owns the other end of a TCP connection that this host accepted on loopback: the
/// kernel's sock_diag (inet_diag) interface looks the peer's socket up by its four-tuple, as
/// `ss -e` does. `local` and `remote` are the accepted connection's own addresses (getsockname,
/// getpeername), both AF_INET or both AF_INET6. The peer's socket is in this network namespace
/// for a loopback connection only; for any other the lookup finds nothing. Returns 0 with
/// `*uid` set, or an errno value: ENOENT when no such socket exists (the peer closed already, or
/// it is not local), EAFNOSUPPORT for other families, or the netlink call's own error.
int vk_tcp_peer_uid(const struct sockaddr *local, const struct sockaddr *remote, uint32_t *uid);
#endif
