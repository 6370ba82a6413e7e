// glibc functions Swift's Glibc module does not declare, because they (and struct mmsghdr) are
// visible only under _GNU_SOURCE: recvmmsg/sendmmsg and the CPU affinity count. This header
// mirrors struct mmsghdr's layout (gnu.c checks it) and wraps the calls; the logic stays in Swift.
#ifndef CGNU_H
#define CGNU_H

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

/// Asks the kernel to stamp each datagram `fd` receives with its arrival time (SO_TIMESTAMPNS).
int csb_enable_receive_timestamps(int fd);

/// Control-buffer bytes one arrival timestamp takes (CMSG_SPACE of a timespec).
size_t csb_timestamp_control_size(void);

/// The arrival time carried by a received `message` (CLOCK_REALTIME, nanoseconds), 0 if none.
long long csb_receive_timestamp(const struct msghdr *message);

/// CLOCK_REALTIME now, in nanoseconds: the clock of the arrival timestamps.
long long csb_realtime_now(void);

/// Fills `buffer` with `length` bytes from the kernel's CSPRNG (getrandom(2)): 0, or -1 when it
/// could not. One call fills many query IDs (RFC 5452 §9.2), instead of a system call for each.
int csb_random_bytes(void *buffer, size_t length);

/// CPUs this process may run on (sched_getaffinity), or -1 when unknown.
int csb_usable_cpus(void);

#endif
