#ifndef VK_EPOLL_H
#define VK_EPOLL_H

/// A close-on-exec epoll set, or -errno.
int vk_epoll_create(void);
/// Watches `fd` one-shot for input or hang-up (EPOLL_CTL_ADD, or EPOLL_CTL_MOD when `rearm`). 0 or -errno.
int vk_epoll_watch(int epoll, int fd, int rearm);
/// Stops watching `fd`. 0 or -errno.
int vk_epoll_unwatch(int epoll, int fd);
/// Waits for events; writes up to `max` ready descriptors into `fds`. Their count, or -errno.
int vk_epoll_wait(int epoll, int *fds, int max);

#endif
