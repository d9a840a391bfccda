/*
 * Internal: the project's own UDP socket (Linux): non-blocking, recvmsg/sendmsg, and UDP GSO
 * (UDP_SEGMENT) where the kernel has it. The QUIC transport drives it from its event loop.
 */
#ifndef HV_PLATFORM_UDP_H
#define HV_PLATFORM_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct hv_udp {
    int fd;
    int family;
    int gso; /* the kernel accepted UDP_SEGMENT */
    int gro; /* the kernel accepted UDP_GRO: one receive may hold many datagrams */
    struct sockaddr_storage local;
    socklen_t local_len;
} hv_udp;

/* Resolves host:port (numeric or a name) into *out. 0 or HV_EINVAL (with no such address). */
int hv__udp_resolve(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len);

/* Opens a non-blocking socket bound to bind_addr (port 0 = any) with large buffers, probing
 * GSO. 0 or an HV_E* translated from errno. */
int hv__udp_open(hv_udp *u, const struct sockaddr *bind_addr, socklen_t len);
void hv__udp_close(hv_udp *u);

/* Receives one datagram, or with GRO several of one sender coalesced by the kernel: datagrams
 * of *seg bytes each, the last possibly shorter (*seg = the length when there is one).
 * Returns the total length, HV_EAGAIN when none is waiting, or an error. */
int hv__udp_recv(hv_udp *u, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
                 socklen_t *from_len, size_t *seg);

/* Sends len bytes to `to` as datagrams of seg bytes each (the last may be shorter): one
 * sendmsg with UDP_SEGMENT when the socket has GSO and len > seg, else one sendmsg per
 * datagram. Returns the number of datagrams sent, HV_EAGAIN (socket buffer full: nothing
 * sent), or an error. */
int hv__udp_send(hv_udp *u, const uint8_t *buf, size_t len, size_t seg, const struct sockaddr *to,
                 socklen_t to_len);

#endif
