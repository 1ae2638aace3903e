/* Benchmarks/compare-libvirt-rpc.sh: */
/* A libvirt RPC "server" that answers every call at once with an empty or constant reply:
   the floor of what a client round trip costs (kernel + client), with no server work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
static int readn(int fd, unsigned char *b, size_t n) { size_t g = 0; while (g < n) { ssize_t r = read(fd, b + g, n - g); if (r <= 0) return -1; g += r; } return 0; }
int main(int argc, char **argv) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0); struct sockaddr_un a = {0}; a.sun_family = AF_UNIX;
    strcpy(a.sun_path, argv[1]); unlink(argv[1]); bind(s, (void *)&a, sizeof a); listen(s, 8);
    for (;;) { int c = accept(s, 0, 0); if (c < 0) continue;
        unsigned char buf[65536];
        for (;;) { if (readn(c, buf, 4)) break; uint32_t n = ntohl(*(uint32_t *)buf); if (n < 28 || n > sizeof buf) break;
            if (readn(c, buf + 4, n - 4)) break;
            int32_t proc = ntohl(*(int32_t *)(buf + 12)); uint32_t type = ntohl(*(uint32_t *)(buf + 16));
            if (type != 0) continue;
            unsigned char out[64]; memcpy(out + 4, buf + 4, 24); *(uint32_t *)(out + 16) = htonl(1); *(uint32_t *)(out + 24) = htonl(0);
            uint32_t len = 28;
            if (proc == 66) { uint32_t v[2] = {htonl(1), 0}; memcpy(out + 28, v, 8); len += 8; }
            else if (proc == 157 || proc == 4) { uint32_t v[2] = {0, htonl(9000000)}; memcpy(out + 28, v, 8); len += 8; }
            else if (proc == 60) { uint32_t v = 0; memcpy(out + 28, &v, 4); len += 4; }
            *(uint32_t *)out = htonl(len); write(c, out, len); }
        close(c); } }
