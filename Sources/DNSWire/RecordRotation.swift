/// Rotates an RRset of fixed-size records in place: an RRset's order carries no meaning
/// (RFC 2181 §5), so clients that take the first address spread over all of them when each
/// reply starts elsewhere. Only the record data moves; owners, types, classes and TTLs stay,
/// so nothing is re-encoded and compression pointers stay valid.
public enum RecordRotation {
    /// Rotates left by `shift` the data of `count` records whose data starts at `firstData` and
    /// repeats every `stride` bytes, each `dataLength` bytes long. The caller has checked that
    /// the records lie inside `bytes`.
    public static func rotateData(
        _ bytes: UnsafeMutableRawBufferPointer, firstData: Int, stride: Int, dataLength: Int, count: Int, shift: Int
    ) {
        guard count > 1 else { return }
        let shift = shift % count
        guard shift > 0 else { return }
        func swapData(_ left: Int, _ right: Int) {
            let a = firstData + left * stride, b = firstData + right * stride
            for offset in 0..<dataLength { bytes.swapAt(a + offset, b + offset) }
        }
        // Rotating left by `shift` is three reversals.
        func reverse(_ lower: Int, _ upper: Int) {
            var (low, high) = (lower, upper - 1)
            while low < high {
                swapData(low, high)
                low += 1
                high -= 1
            }
        }
        reverse(0, shift)
        reverse(shift, count)
        reverse(0, count)
    }
}
