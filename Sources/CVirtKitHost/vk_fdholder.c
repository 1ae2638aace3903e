#define _GNU_SOURCE
#include "vk_fdholder.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int vk_send_with_fd(int sock, const char *msg, size_t len, int fd) {
    struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        header.msg_control = control.buf;
        header.msg_controllen = sizeof(control.buf);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    for (;;) {
        if (sendmsg(sock, &header, MSG_NOSIGNAL) >= 0) return 0;
        if (errno != EINTR) return errno;
    }
}

ssize_t vk_recv_with_fd(int sock, char *buf, size_t cap, int *fd) {
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr header = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
    *fd = -1;
    ssize_t n;
    do { n = recvmsg(sock, &header, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header); cmsg; cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS && cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int received;
            memcpy(&received, CMSG_DATA(cmsg), sizeof(int));
            if (*fd < 0) *fd = received; else close(received);
        }
    }
    if (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        if (*fd >= 0) { close(*fd); *fd = -1; }
        return -EMSGSIZE;
    }
    return n;
}

// Keys are short (a guest directory and an alias); the table is bounded so a client cannot grow
// the holder without limit.
#define VK_HOLD_MAX 65536
#define VK_KEY_MAX 512

struct vk_held { char *key; int fd; };

static struct vk_held held[VK_HOLD_MAX];
static int held_count;

static int find(const char *key) {
    for (int i = 0; i < held_count; i++) if (strcmp(held[i].key, key) == 0) return i;
    return -1;
}

static void drop_at(int i) {
    close(held[i].fd);
    free(held[i].key);
    held[i] = held[--held_count];
}

/// One request; the answer goes back on `client`.
static void handle(int client, char op, const char *key, int fd) {
    char answer[32];
    int i;
    switch (op) {
    case 'H':
        if (fd < 0) break;
        if ((i = find(key)) >= 0) { close(held[i].fd); held[i].fd = fd; fd = -1; break; }
        if (held_count < VK_HOLD_MAX) {
            char *copy = strdup(key);
            if (copy) { held[held_count].key = copy; held[held_count].fd = fd; held_count++; fd = -1; }
        }
        break;
    case 'F':
        i = find(key);
        vk_send_with_fd(client, i >= 0 ? "Y" : "N", 1, i >= 0 ? held[i].fd : -1);
        break;
    case 'D':
        if ((i = find(key)) >= 0) drop_at(i);
        break;
    case 'P':
        for (i = held_count - 1; i >= 0; i--) if (strncmp(held[i].key, key, strlen(key)) == 0) drop_at(i);
        break;
    case 'C':
        snprintf(answer, sizeof(answer), "Y %d", held_count);
        vk_send_with_fd(client, answer, strlen(answer), -1);
        break;
    }
    if (fd >= 0) close(fd);
}

int vk_fdholder_serve(int listen_fd) {
    char message[VK_KEY_MAX + 3];
    for (;;) {
        int client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return errno;
        }
        for (;;) {
            int fd;
            ssize_t n = vk_recv_with_fd(client, message, sizeof(message) - 1, &fd);
            if (n == -EMSGSIZE) continue;
            if (n <= 0) break;
            message[n] = 0;
            // "X" or "X key": the operation, then its key.
            handle(client, message[0], n > 2 ? message + 2 : "", fd);
        }
        close(client);
        if (held_count == 0) return 0;
    }
}

#include <sys/stat.h>
#include <sys/un.h>

static int seqpacket_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(address->sun_path)) return -ENAMETOOLONG;
    strcpy(address->sun_path, path);
    return 0;
}

int vk_seqpacket_listen(const char *path) {
    struct sockaddr_un address;
    int rc = seqpacket_address(path, &address);
    if (rc < 0) return rc;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    mode_t old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&address, sizeof(address));
    umask(old);
    if (rc < 0 || listen(fd, 4) < 0) { rc = -errno; close(fd); return rc; }
    return fd;
}

int vk_seqpacket_connect(const char *path) {
    struct sockaddr_un address;
    int rc = seqpacket_address(path, &address);
    if (rc < 0) return rc;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) { rc = -errno; close(fd); return rc; }
    return fd;
}
