#ifndef VK_SPAWN_H
#define VK_SPAWN_H
#include <sys/types.h>

/// Starts `path` with `argv`/`envp` in a new session (setsid), its stdin on /dev/null and its
/// stdout and stderr on `output_fd`, and each `sources[i]` placed at descriptor `targets[i]`;
/// every other descriptor is closed in the child. The sources may collide with the targets: they
/// are first duplicated above every target. Returns 0 and the pid, or an errno value.
int vk_spawn(const char *path, char *const argv[], char *const envp[], int output_fd,
             const int *sources, const int *targets, int count, pid_t *pid_out);

/// Binds and listens a UNIX stream socket at `dir_fd`/`name` (any length of the directory's own
/// path: the bind goes through /proc/self/fd), mode `mode` applied before listen. Returns the
/// listening descriptor (close-on-exec) or -errno.
int vk_listen_unix_at(int dir_fd, const char *name, unsigned int mode, int backlog);

/// Connects a UNIX stream socket to `dir_fd`/`name`, same path trick. Returns the fd or -errno.
int vk_connect_unix_at(int dir_fd, const char *name);

/// pidfd_open(2): a descriptor that becomes readable when `pid` exits. -errno on failure.
int vk_pidfd_open(pid_t pid);
#endif
