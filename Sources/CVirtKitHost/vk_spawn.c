#define _GNU_SOURCE
#include "vk_spawn.h"
#include "vk_sched.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int vk_spawn(const char *path, char *const argv[], char *const envp[], int output_fd,
             const int *sources, const int *targets, int count, pid_t *pid_out) {
    int highest_target = 2;
    for (int i = 0; i < count; i++) if (targets[i] > highest_target) highest_target = targets[i];
    // Copies go above every target and every source, so no dup2 below overwrites a source.
    int highest = highest_target > output_fd ? highest_target : output_fd;
    for (int i = 0; i < count; i++) if (sources[i] > highest) highest = sources[i];
    // Move every source (and the output) above every target, close-on-exec, so the dup2 actions
    // below cannot clobber one another, and nothing but the targets survives exec.
    int moved[count > 0 ? count : 1];
    int out = -1, rc = 0, made = 0;
    out = fcntl(output_fd, F_DUPFD_CLOEXEC, highest + 1);
    if (out < 0) return errno;
    for (; made < count; made++) {
        moved[made] = fcntl(sources[made], F_DUPFD_CLOEXEC, highest + 1);
        if (moved[made] < 0) { rc = errno; goto done; }
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) goto done;
    if ((rc = posix_spawnattr_init(&attr)) != 0) { posix_spawn_file_actions_destroy(&actions); goto done; }
    rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&actions, out, 1);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&actions, out, 2);
    for (int i = 0; i < count && !rc; i++) rc = posix_spawn_file_actions_adddup2(&actions, moved[i], targets[i]);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&actions, highest_target + 1);
    // A clean signal state: the daemon may block or ignore signals QEMU relies on.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // The child starts with the kernel's default slice, not a short one the daemon asked for.
    if (!rc) {
        int reset = vk_sched_reset_thread_slice_for_spawn();
        rc = posix_spawn(pid_out, path, &actions, &attr, argv, envp);
        vk_sched_restore_thread_slice_after_spawn(reset);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
done:
    for (int i = 0; i < made; i++) close(moved[i]);
    close(out);
    return rc;
}

static int proc_path(int dir_fd, const char *name, struct sockaddr_un *addr) {
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    int n;
    if (dir_fd == AT_FDCWD) n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s", name);
    else n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", dir_fd, name);
    if (n < 0 || (size_t)n >= sizeof(addr->sun_path)) return -ENAMETOOLONG;
    return 0;
}

int vk_listen_unix_at(int dir_fd, const char *name, unsigned int mode, int backlog) {
    struct sockaddr_un addr;
    int rc = proc_path(dir_fd, name, &addr);
    if (rc) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    // Linux gives the new inode the socket's own mode less the umask: set it before bind, so
    // there is no window in which another user could connect (umask is process-wide: not used).
    int saved;
    if (fchmod(fd, (mode_t)mode & 0777) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        saved = errno;
        close(fd);
        return -saved;
    }
    if (fchmodat(dir_fd, name, (mode_t)mode, 0) < 0 || listen(fd, backlog) < 0) {
        saved = errno;
        unlinkat(dir_fd, name, 0);
        close(fd);
        return -saved;
    }
    return fd;
}

int vk_connect_unix_at(int dir_fd, const char *name) {
    struct sockaddr_un addr;
    int rc = proc_path(dir_fd, name, &addr);
    if (rc) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int vk_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}
