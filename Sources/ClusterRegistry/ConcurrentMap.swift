internal import CGNU
import Dispatch
import Foundation

/// CPUs this process may run on (its affinity mask, as `taskset` or a cpuset sets it), read
/// once; the processor count when the mask cannot be read. Foundation's
/// `activeProcessorCount` counts every CPU of the machine.
let usableCPUCount: Int = {
    let count = csb_usable_cpus()
    return count > 0 ? Int(count) : ProcessInfo.processInfo.activeProcessorCount
}()

/// `transform(i)` for every `i` in `0..<count`, spread over the cores (`concurrentPerform`);
/// the results in index order. For the parallel parts of loading and building: files parsed
/// at once, and the two halves of a large snapshot build.
func concurrentMap<Value: Sendable>(count: Int, _ transform: @Sendable (Int) -> Value) -> [Value] {
    let slots = ResultSlots<Value>(count: count)
    DispatchQueue.concurrentPerform(iterations: count) { index in
        slots.store(transform(index), at: index)
    }
    return slots.takeValues()
}

/// `transform(i, inputs[i])` for every input, spread over the cores, each worker owning its
/// input outright: it takes it from a shared box, so nothing else references it and whatever
/// the worker drops is freed at once (the shards' pieces, merged while the snapshot grows).
func concurrentMap<Input: Sendable, Value: Sendable>(
    taking inputs: consuming [Input], _ transform: @Sendable (Int, inout Input) -> Value
) -> [Value] {
    let box = InputSlots(consume inputs)
    return concurrentMap(count: box.count) { index in
        var input = box.take(index)
        return transform(index, &input)
    }
}

/// Inputs handed to concurrent workers, each taken once.
private final class InputSlots<Input: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `slots` holds `lock`.
    private let lock = NSLock()
    private var slots: [Input?]
    let count: Int

    init(_ inputs: consuming [Input]) {
        count = inputs.count
        slots = inputs.map(Optional.some)
        inputs = []  // the slots hold the only references
    }

    func take(_ index: Int) -> Input {
        lock.lock()
        defer { lock.unlock() }
        defer { slots[index] = nil }
        return slots[index]!
    }
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

    /// The results, moved out of their slots: copying them retained and released every
    /// object they hold (issue #9).
    func takeValues() -> [Value] {
        lock.lock()
        defer { lock.unlock() }
        var values: [Value] = []
        values.reserveCapacity(slots.count)
        for index in slots.indices {
            guard let value = slots[index].take() else { preconditionFailure("a worker stored no result") }
            values.append(value)
        }
        slots = []
        return values
    }
}
