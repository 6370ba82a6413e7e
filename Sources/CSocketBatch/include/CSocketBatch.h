// recvmmsg/sendmmsg for Swift: glibc declares them (and struct mmsghdr) only under _GNU_SOURCE,
// which Swift's Glibc module is not built with. This header mirrors struct mmsghdr's layout (the
// .c file checks it) and wraps the two calls; everything else stays in Swift.
#ifndef CSOCKETBATCH_H
#define CSOCKETBATCH_H

#include <sys/socket.h>
#include <time.h>

typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} csb_mmsghdr;

int csb_recvmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout);
int csb_sendmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags);

/// MSG_WAITFORONE (also _GNU_SOURCE only): return as soon as one datagram has arrived.
int csb_msg_waitforone(void);

#endif
