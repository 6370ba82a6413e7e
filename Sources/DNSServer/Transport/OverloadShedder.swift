import DNSWire

#if canImport(Glibc)
import Glibc
#endif

/// UDP overload shedding (issue #11): when a serving thread falls behind, queries are dropped
/// before any work is done on them, and counted, rather than left to wait in the socket's queue.
///
/// "Behind" is read off the kernel's arrival stamps: the oldest datagram of a batch waited more
/// than `behindNanoseconds`. Then:
/// - a datagram that waited more than `maxQueueDelay` is dropped: its client has retried or
///   given up by the time an answer would reach it, and answering it makes every query queued
///   behind it wait longer still;
/// - a client (an address; a /64 for IPv6) with more than `clientShare` of a batch that holds
///   other clients too has the rest of its datagrams in that batch dropped, so one flooding pod
///   takes its share of the thread and not everyone's.
/// When the thread keeps up, this costs one stamp and one clock read per batch.
public struct OverloadShedder {
    public struct Settings: Sendable, Equatable {
        /// Older than this when read: dropped (`--udp-max-queue-delay`; 0 turns shedding off).
        var maxQueueDelayNanoseconds: Int64
        /// The oldest datagram of a batch older than this means the thread is behind.
        var behindNanoseconds: Int64
        /// Datagrams one client may have in a batch while behind.
        var clientShare: Int

        /// 2 ms of queueing means behind (a backlog of several batches: a thread that keeps
        /// up reads each datagram within microseconds), or a tenth of the queue delay if that
        /// is less; a client may have a quarter of a batch (16 of `UDPListener.batchSize`'s 64).
        public init(maxQueueDelayNanoseconds: Int64) {
            self.maxQueueDelayNanoseconds = maxQueueDelayNanoseconds
            behindNanoseconds = min(2_000_000, maxQueueDelayNanoseconds / 10)
            clientShare = 16
        }
    }

    enum Verdict: UInt8, Equatable {
        case answer
        /// Waited past `maxQueueDelay`.
        case tooOld
        /// Over its client's share of a batch while behind.
        case overShare
    }

    let settings: Settings
    /// One verdict per datagram of the batch last judged.
    private(set) var verdicts: [Verdict]
    private var clients: [(UInt64, UInt64)]

    init(settings: Settings, batchSize: Int = UDPListener.batchSize) {
        self.settings = settings
        verdicts = Array(repeating: .answer, count: batchSize)
        clients = Array(repeating: (0, 0), count: batchSize)
    }

    /// Judges a batch of `count` datagrams from their arrival times and senders, given the
    /// time now (all on one clock, nanoseconds; an arrival of 0 means unknown). Returns whether
    /// anything is to be dropped; the verdicts say what.
    mutating func judge(count: Int, now: Int64, arrival: (Int) -> Int64, client: (Int) -> sockaddr_storage) -> Bool {
        let count = min(count, verdicts.count)
        guard count > 0 else { return false }
        let oldest = arrival(0)
        // The kernel queues in arrival order, so the batch's first datagram waited longest.
        guard oldest > 0, now - oldest > settings.behindNanoseconds else { return false }
        var shedding = false
        var distinctClients = 0
        for index in 0..<count {
            clients[index] = Self.clientKey(client(index))
            if !(0..<index).contains(where: { clients[$0] == clients[index] }) { distinctClients += 1 }
        }
        for index in 0..<count {
            let stamp = arrival(index)
            if stamp > 0, now - stamp > settings.maxQueueDelayNanoseconds {
                verdicts[index] = .tooOld
                shedding = true
                continue
            }
            verdicts[index] = .answer
            guard distinctClients > 1 else { continue }
            var earlier = 0
            for previous in 0..<index where verdicts[previous] == .answer && clients[previous] == clients[index] { earlier += 1 }
            if earlier >= settings.clientShare {
                verdicts[index] = .overShare
                shedding = true
            }
        }
        return shedding
    }

    /// A client for the share: its IPv4 address, or its IPv6 /64 (one host's addresses).
    private static func clientKey(_ address: sockaddr_storage) -> (UInt64, UInt64) {
        switch IPAddress(socketAddress: address) {
        case .v4(let value): return (UInt64(value), 4)
        case .v6(let high, _): return (high, 6)
        case nil: return (0, 0)
        }
    }
}
