#define _GNU_SOURCE
#include "CGNU.h"
#include <stddef.h>

_Static_assert(sizeof(csb_mmsghdr) == sizeof(struct mmsghdr), "csb_mmsghdr must match struct mmsghdr");
_Static_assert(offsetof(csb_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset");

int csb_recvmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, timeout);
}

int csb_sendmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int csb_msg_waitforone(void) { return MSG_WAITFORONE; }

#include <sched.h>

int csb_usable_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}
