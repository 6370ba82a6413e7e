import CGNU

/// Unpredictable 16-bit values for query IDs (RFC 5452 §9.2), from the kernel's CSPRNG 256
/// bytes at a time: Swift's `SystemRandomNumberGenerator` makes a `getrandom` system call for
/// every value, which a forwarded miss would pay each time (issue #10). Owned by one thread.
struct RandomIDs {
    private static let chunk = 256
    private var buffer = [UInt8](repeating: 0, count: chunk)
    private var position = chunk
    /// Fills a buffer with random bytes; false when it could not. Tests give a fixed source.
    private let fill: (UnsafeMutableRawBufferPointer) -> Bool

    init(fill: @escaping (UnsafeMutableRawBufferPointer) -> Bool = { csb_random_bytes($0.baseAddress, $0.count) == 0 }) {
        self.fill = fill
    }

    mutating func next() -> UInt16 {
        if position + 2 > Self.chunk {
            let filled = buffer.withUnsafeMutableBytes { fill($0) }
            // getrandom(2) does not fail for 256 bytes once the pool is seeded; if it ever did,
            // the system generator still gives a value.
            guard filled else { return UInt16.random(in: .min ... .max) }
            position = 0
        }
        defer { position += 2 }
        return UInt16(buffer[position]) << 8 | UInt16(buffer[position + 1])
    }
}
