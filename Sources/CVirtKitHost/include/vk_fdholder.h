#ifndef VK_FDHOLDER_H
#define VK_FDHOLDER_H
#include <stddef.h>
#include <sys/types.h>

/// Sends `len` bytes of `msg` on the SOCK_SEQPACKET socket `sock`, with descriptor `fd` attached
/// (SCM_RIGHTS) unless it is -1. 0, or an errno.
int vk_send_with_fd(int sock, const char *msg, size_t len, int fd);

/// Receives one message into `buf` (at most `cap` bytes) and the descriptor attached to it, if
/// any (`*fd`, else -1; close-on-exec). The message length, 0 at end of file, -errno on error.
ssize_t vk_recv_with_fd(int sock, char *buf, size_t cap, int *fd);

/// The descriptor holder's whole life: accepts one client at a time on `listen_fd` and keeps
/// the descriptors it is given by key ("H key" + fd: hold, replacing; "F key": answered "Y" +
/// the descriptor or "N"; "D key": drop; "P prefix": drop every key with the prefix; "C": count,
/// answered "Y n"). Returns (0) once a client has gone and nothing is held.
int vk_fdholder_serve(int listen_fd);

/// A SOCK_SEQPACKET socket listening at `path` (0600; a stale file replaced), or -errno.
int vk_seqpacket_listen(const char *path);

/// A SOCK_SEQPACKET socket connected to `path`, or -errno.
int vk_seqpacket_connect(const char *path);

#endif
