import CGNU

#if canImport(Glibc)
import Glibc
#endif

/// The memory of one `recvmmsg`/`sendmmsg` round, allocated once per serving thread: a slot per
/// datagram in and per reply out, their iovecs, message headers, client addresses and the
/// control space where the kernel puts each datagram's arrival time.
struct DatagramBatch {
    let count: Int
    let slotSize: Int
    let inMessages: UnsafeMutablePointer<csb_mmsghdr>
    private let outMessages: UnsafeMutablePointer<csb_mmsghdr>
    private let inVectors: UnsafeMutablePointer<iovec>
    private let outVectors: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    /// Where replies staged by address go (`stageReply(_:to:bytes:)`).
    private let outAddresses: UnsafeMutablePointer<sockaddr_storage>
    private let inSlots: UnsafeMutableRawPointer
    private let outSlots: UnsafeMutableRawPointer
    private let controls: UnsafeMutableRawPointer
    private let controlSize: Int

    init(count: Int, slotSize: Int) {
        self.count = count
        self.slotSize = slotSize
        inMessages = .allocate(capacity: count)
        outMessages = .allocate(capacity: count)
        inVectors = .allocate(capacity: count)
        outVectors = .allocate(capacity: count)
        addresses = .allocate(capacity: count)
        outAddresses = .allocate(capacity: count)
        inSlots = .allocate(byteCount: count * slotSize, alignment: 16)
        outSlots = .allocate(byteCount: count * slotSize, alignment: 16)
        controlSize = csb_timestamp_control_size()
        controls = .allocate(byteCount: count * controlSize, alignment: 16)
        for index in 0..<count {
            inVectors[index] = iovec(iov_base: inSlots + index * slotSize, iov_len: slotSize)
            outVectors[index] = iovec(iov_base: outSlots + index * slotSize, iov_len: 0)
            inMessages[index] = csb_mmsghdr()
            inMessages[index].msg_hdr.msg_iov = inVectors + index
            inMessages[index].msg_hdr.msg_iovlen = 1
            outMessages[index] = csb_mmsghdr()
            outMessages[index].msg_hdr.msg_iov = outVectors + index
            outMessages[index].msg_hdr.msg_iovlen = 1
        }
    }

    func deallocate() {
        for pointer in [UnsafeMutableRawPointer(inMessages), UnsafeMutableRawPointer(outMessages),
                        UnsafeMutableRawPointer(inVectors), UnsafeMutableRawPointer(outVectors),
                        UnsafeMutableRawPointer(addresses), UnsafeMutableRawPointer(outAddresses), inSlots, outSlots, controls] {
            pointer.deallocate()
        }
    }

    /// The kernel overwrites each header's address length and flags; reset them before a receive.
    mutating func prepareToReceive() {
        for index in 0..<count {
            inMessages[index].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + index)
            inMessages[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            inMessages[index].msg_hdr.msg_flags = 0
            inMessages[index].msg_hdr.msg_control = controls + index * controlSize
            inMessages[index].msg_hdr.msg_controllen = controlSize
        }
    }

    /// When datagram `index` arrived (CLOCK_REALTIME nanoseconds), 0 if the socket does not
    /// stamp arrivals.
    func arrival(_ index: Int) -> Int64 {
        withUnsafePointer(to: &inMessages[index].msg_hdr) { Int64(csb_receive_timestamp($0)) }
    }

    /// Datagram `index` as received (cut at the slot size when larger: the parser rejects it).
    func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: inSlots + index * slotSize, count: min(Int(inMessages[index].msg_len), slotSize))
    }

    func address(_ index: Int) -> sockaddr_storage { addresses[index] }

    /// Reply slot `slot` carries `bytes` to the sender of datagram `index`.
    func stageReply(_ slot: Int, to index: Int, bytes: UnsafeRawBufferPointer) {
        (outSlots + slot * slotSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        outVectors[slot].iov_len = bytes.count
        outMessages[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + index)
        outMessages[slot].msg_hdr.msg_namelen = inMessages[index].msg_hdr.msg_namelen
    }

    /// Reply slot `slot` carries `bytes` to `client`: a reply not answering this batch's
    /// datagrams (one an upstream has just given).
    func stageReply(_ slot: Int, to client: sockaddr_storage, bytes: UnsafeRawBufferPointer) {
        (outSlots + slot * slotSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        outVectors[slot].iov_len = bytes.count
        outAddresses[slot] = client
        outMessages[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(outAddresses + slot)
        outMessages[slot].msg_hdr.msg_namelen = client.length
    }

    /// Sends the first `replies` staged replies.
    func send(_ replies: Int, on fd: Int32) {
        sendMessages(outMessages, count: replies, on: fd)
    }
}

/// Sends `count` prepared messages on `fd` with as few `sendmmsg` calls as the kernel allows. A
/// message it refuses (an unreachable destination) is skipped, never retried in a loop.
func sendMessages(_ messages: UnsafeMutablePointer<csb_mmsghdr>, count: Int, on fd: Int32) {
    var sent = 0
    while sent < count {
        let result = csb_sendmmsg(fd, messages + sent, UInt32(count - sent), 0)
        if result > 0 {
            sent += Int(result)
        } else if result < 0 && errno == EINTR {
            continue
        } else if result < 0 && errno == EMSGSIZE {
            // Larger than the path takes with DF (`AtomicDatagrams`): fragmented, as before.
            withUnsafePointer(to: &messages[sent].msg_hdr) { AtomicDatagrams.sendAllowingFragments($0, on: fd) }
            sent += 1
        } else {
            sent += 1
        }
    }
}
