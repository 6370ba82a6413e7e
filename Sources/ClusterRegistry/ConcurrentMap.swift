import Dispatch
import Foundation

/// `transform(i)` for every `i` in `0..<count`, spread over the cores (`concurrentPerform`);
/// the results in index order. For the parallel parts of loading and building: files parsed
/// at once, and the two halves of a large snapshot build.
func concurrentMap<Value: Sendable>(count: Int, _ transform: @Sendable (Int) -> Value) -> [Value] {
    let slots = ResultSlots<Value>(count: count)
    DispatchQueue.concurrentPerform(iterations: count) { index in
        slots.store(transform(index), at: index)
    }
    return slots.values
}

/// Results written by concurrent workers, one slot each, read after all of them finished.
private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `slots` holds `lock`.
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ value: Value, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
