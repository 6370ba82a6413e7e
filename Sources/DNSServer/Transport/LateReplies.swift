import CGNU
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Replies that complete on an event loop (forwarded misses), sent from there in batches
/// (issue #10): the first reply of a loop tick queues one flush on that loop, later ones join
/// it, and the flush sends them all with `sendmmsg` instead of a `sendto` each.
final class LateReplies: Sendable {
    private let fd: Int32
    private let queue = NIOLockedValueBox(Queue())
    /// Replies per `sendmmsg` call.
    static let chunk = 64

    private struct Queue {
        var replies: [(bytes: [UInt8], client: sockaddr_storage)] = []
        var flushQueued = false
    }

    init(fd: Int32) { self.fd = fd }

    /// Queues `reply` for `client`; `eventLoop` is the loop this runs on, which flushes.
    func send(_ reply: [UInt8], to client: sockaddr_storage, on eventLoop: any EventLoop) {
        let schedule = queue.withLockedValue { queue -> Bool in
            queue.replies.append((reply, client))
            defer { queue.flushQueued = true }
            return !queue.flushQueued
        }
        if schedule { eventLoop.execute { [self] in flush() } }
    }

    private func flush() {
        var replies = queue.withLockedValue { queue in
            defer {
                queue.replies = []
                queue.flushQueued = false
            }
            return queue.replies
        }
        var start = 0
        while start < replies.count {
            let end = min(start + Self.chunk, replies.count)
            send(&replies[start..<end])
            start = end
        }
    }

    /// One `sendmmsg` for `replies` (`sendMessages`).
    private func send(_ replies: inout ArraySlice<(bytes: [UInt8], client: sockaddr_storage)>) {
        let count = replies.count
        let messages = UnsafeMutablePointer<csb_mmsghdr>.allocate(capacity: count)
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: count)
        defer {
            messages.deallocate()
            vectors.deallocate()
        }
        // The message headers point into `replies`' own storage: the reply arrays and the
        // addresses it holds, neither moved nor changed until `sendmmsg` has returned.
        replies.withUnsafeMutableBufferPointer { replies in
            for index in 0..<count {
                replies[index].bytes.withUnsafeBytes {
                    vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
                }
                messages[index] = csb_mmsghdr()
                messages[index].msg_hdr.msg_iov = vectors + index
                messages[index].msg_hdr.msg_iovlen = 1
                withUnsafeMutablePointer(to: &replies[index].client) { messages[index].msg_hdr.msg_name = UnsafeMutableRawPointer($0) }
                messages[index].msg_hdr.msg_namelen = replies[index].client.length
            }
            sendMessages(messages, count: count, on: fd)
        }
    }
}
