/* The project's UDP socket on Linux: recvmsg/sendmsg and UDP GSO. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <hivewire/common.h>

#include "platform/platform.h"
#include "platform/udp.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

int hv__udp_resolve(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
    struct addrinfo *res = NULL;
    char ps[8];
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL)
        return HV_EINVAL;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int hv__udp_open(hv_udp *u, const struct sockaddr *bind_addr, socklen_t len)
{
    memset(u, 0, sizeof(*u));
    u->family = bind_addr->sa_family;
    u->fd = socket(u->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0)
        return hv_err_from_errno(errno);
    int buf = 4 << 20;
    (void)setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    (void)setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    int one = 1;
    if (u->family == AF_INET6)
        (void)setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(u->fd, bind_addr, len) != 0) {
        int e = errno;
        close(u->fd);
        u->fd = -1;
        return hv_err_from_errno(e);
    }
    u->local_len = sizeof(u->local);
    (void)getsockname(u->fd, (struct sockaddr *)&u->local, &u->local_len);
    int seg = 1200;
    u->gso = setsockopt(u->fd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) == 0;
    if (u->gso) {
        seg = 0; /* per-call segment sizes from here on */
        (void)setsockopt(u->fd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg));
    }
    u->gro = setsockopt(u->fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
    return 0;
}

void hv__udp_close(hv_udp *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

int hv__udp_recv(hv_udp *u, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
                 socklen_t *from_len, size_t *seg)
{
    struct iovec iov = { buf, cap };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = { .msg_name = from,
                          .msg_namelen = sizeof(*from),
                          .msg_iov = &iov,
                          .msg_iovlen = 1,
                          .msg_control = u->gro ? ctl.buf : NULL,
                          .msg_controllen = u->gro ? sizeof(ctl.buf) : 0 };
    ssize_t n;
    do {
        n = recvmsg(u->fd, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? HV_EAGAIN : hv_err_from_errno(errno);
    *from_len = msg.msg_namelen;
    *seg = (size_t)n;
    for (struct cmsghdr *cm = u->gro ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
        int gs;
        if (cm->cmsg_level != IPPROTO_UDP || cm->cmsg_type != UDP_GRO ||
            cm->cmsg_len < CMSG_LEN(sizeof(gs)))
            continue;
        memcpy(&gs, CMSG_DATA(cm), sizeof(gs));
        if (gs > 0 && (size_t)gs < *seg)
            *seg = (size_t)gs;
    }
    return (int)n;
}

static int send_one(hv_udp *u, const uint8_t *buf, size_t len, size_t seg,
                    const struct sockaddr *to, socklen_t to_len)
{
    struct iovec iov = { (void *)buf, len };
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {
        .msg_name = (void *)to, .msg_namelen = to_len, .msg_iov = &iov, .msg_iovlen = 1
    };
    if (seg && len > seg) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = IPPROTO_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t s = (uint16_t)seg;
        memcpy(CMSG_DATA(cm), &s, sizeof(s));
    }
    ssize_t n;
    do {
        n = sendmsg(u->fd, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? HV_EAGAIN : hv_err_from_errno(errno);
    return 0;
}

int hv__udp_send(hv_udp *u, const uint8_t *buf, size_t len, size_t seg, const struct sockaddr *to,
                 socklen_t to_len)
{
    int count = (int)((len + seg - 1) / seg);
    if (u->gso && count > 1) {
        int rv = send_one(u, buf, len, seg, to, to_len);
        if (rv == 0)
            return count;
        if (rv != HV_EIO && rv != HV_EINVAL)
            return rv;
        u->gso = 0; /* the device refused GSO: fall back for good */
    }
    int sent = 0;
    for (size_t off = 0; off < len; off += seg) {
        size_t n = len - off < seg ? len - off : seg;
        int rv = send_one(u, buf + off, n, 0, to, to_len);
        if (rv < 0)
            return sent ? sent : rv;
        sent++;
    }
    return sent;
}

uint16_t hv__loopback_free_port(int type)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}
