#define _GNU_SOURCE
#include "CGNU.h"
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

_Static_assert(sizeof(csb_mmsghdr) == sizeof(struct mmsghdr), "csb_mmsghdr must match struct mmsghdr");
_Static_assert(offsetof(csb_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset");

int csb_recvmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, timeout);
}

int csb_sendmmsg(int fd, csb_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int csb_msg_waitforone(void) { return MSG_WAITFORONE; }

int csb_enable_receive_timestamps(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
}

size_t csb_timestamp_control_size(void) { return CMSG_SPACE(sizeof(struct timespec)); }

long long csb_receive_timestamp(const struct msghdr *message) {
    // CMSG_NXTHDR takes a non-const header; it only reads it.
    struct msghdr *header = (struct msghdr *)message;
    for (struct cmsghdr *control = CMSG_FIRSTHDR(header); control != NULL; control = CMSG_NXTHDR(header, control)) {
        if (control->cmsg_level == SOL_SOCKET && control->cmsg_type == SCM_TIMESTAMPNS
            && control->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec stamp;
            memcpy(&stamp, CMSG_DATA(control), sizeof(stamp));
            return (long long)stamp.tv_sec * 1000000000LL + stamp.tv_nsec;
        }
    }
    return 0;
}

long long csb_realtime_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

#include <sched.h>

int csb_usable_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}

int csb_random_bytes(void *buffer, size_t length) {
    unsigned char *bytes = buffer;
    while (length > 0) {
        ssize_t got = getrandom(bytes, length, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += got;
        length -= (size_t)got;
    }
    return 0;
}
