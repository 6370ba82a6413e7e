import ClusterRegistry
import DNSWire
import Foundation
import Glibc

// Where a full build's time and memory go (issue #9), without the network or the decoder:
//   swift run -c release RegistryMemory [SERVICES=100000]
// Objects shaped as `scripts/api-latency` serves them: 100 Services per namespace, every 10th
// headless, two named ports, one EndpointSlice of 2-3 ready endpoints each (hostnames behind
// headless Services), every ClusterIP and pod address its own up to 262,144 Services, as an API
// server allocates them (until 2026-12-04 pod addresses repeated from 65,536 on). Live heap from glibc's mallinfo2, RSS from /proc. PEAK=1 samples the live
// heap during the build (the sampling slows it), TRACE=1 prints the samples too.

let count = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 100_000

@_silgen_name("malloc_trim") func mallocTrim(_ pad: Int) -> Int32

/// glibc's `mallinfo2` returns a 10-word struct, which x86-64's C ABI returns through a hidden
/// pointer: called with a buffer, by address, since Glibc's module does not import it.
func liveHeapMiB() -> Double {
    typealias MallInfo2 = @convention(c) (UnsafeMutablePointer<Int>) -> UnsafeMutableRawPointer?
    let function = unsafeBitCast(dlsym(dlopen(nil, RTLD_LAZY), "mallinfo2"), to: MallInfo2.self)
    var words = [Int](repeating: 0, count: 10)
    _ = words.withUnsafeMutableBufferPointer { function($0.baseAddress!) }
    return Double(words[7] + words[4]) / 1_048_576  // uordblks + hblkhd
}
func rssMiB(_ field: String = "VmRSS:") -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(field) } ?? ""
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
}
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
func report(_ stage: String, _ time: Double? = nil) {
    print(stage.padding(toLength: 40, withPad: " ", startingAt: 0)
        + String(format: "heap %7.1f MiB  rss %7.1f MiB  peak %7.1f MiB", liveHeapMiB(), rssMiB(), rssMiB("VmHWM:"))
        + (time.map { String(format: "  %.2f s", $0) } ?? ""))
}

func address(_ text: String) -> IPAddress { IPAddress(text)! }
func changes() -> [ObjectChange] {
    var changes: [ObjectChange] = []
    changes.reserveCapacity(count * 2)
    for index in 0..<count {
        let namespace = "ns\(index / 100)", name = "svc\(index)", headless = index % 10 == 0
        let clusterIP = address("10.\(96 + index >> 16).\((index >> 8) & 255).\(index & 255)")
        let service = Service(
            name: name, namespace: namespace, kind: headless ? .headless : .clusterIP([clusterIP]),
            ports: [ServicePort(name: "http", port: 80, targetPort: 80), ServicePort(name: "metrics", port: 9090, targetPort: 9090)],
            selector: ["app": name])
        changes.append(ObjectChange(key: ObjectKey(origin: "services/\(namespace)/\(name)"), object: .service(service)))
        let endpoints = (0..<(2 + index % 2)).map { endpoint in
            Endpoint(
                addresses: [address("10.\(16 + endpoint * 4 + index >> 16).\((index >> 8) & 255).\(index & 255)")],
                hostname: headless ? "\(name)-\(endpoint)" : nil, podName: "\(name)-pod-\(endpoint)")
        }
        let slice = EndpointGroup(
            serviceName: name, namespace: namespace, origin: .endpointSlice, endpoints: endpoints,
            ports: [EndpointPort(name: "http", port: 8080), EndpointPort(name: "metrics", port: 9090)],
            lastChangeTriggerTime: 1_700_000_000)
        changes.append(ObjectChange(key: ObjectKey(origin: "endpointslices/\(namespace)/\(name)-abcde"), object: .endpoints(slice)))
    }
    return changes
}

/// Live heap and RSS sampled every 20 ms while the build runs: the peak's cause is either live
/// data (heap) or freed memory the allocator kept (RSS above heap).
final class Sampler: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private(set) var samples: [(Double, Double, Double)] = []
    private let start = DispatchTime.now().uptimeNanoseconds

    func run() {
        Thread.detachNewThread {
            while true {
                self.lock.lock()
                let go = self.running
                self.samples.append((Double(DispatchTime.now().uptimeNanoseconds - self.start) / 1e9, liveHeapMiB(), rssMiB()))
                self.lock.unlock()
                if !go { return }
                usleep(20_000)
            }
        }
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }
}

report("start")
var input: [ObjectChange] = []
report("objects made", seconds { input = changes() })
var registry: SegmentedRegistry?
let configuration = RegistryConfiguration(reverse: ProcessInfo.processInfo.environment["REVERSE"] != "0")
// Sampling takes the allocator's lock and walks its bins: only when asked (PEAK=1).
let sampling = ProcessInfo.processInfo.environment["PEAK"] != nil
let sampler = Sampler()
if sampling { sampler.run() }
let build = seconds {
    registry = SegmentedRegistry(configuration: configuration, changes: input, serial: 1)
}
sampler.stop()
usleep(50_000)
report("full build", build)
if let peakHeap = sampler.samples.max(by: { $0.1 < $1.1 }) {
print(String(format: "  during the build: live heap peaked at %.1f MiB (%.2f s in), RSS then %.1f MiB", peakHeap.1, peakHeap.0, peakHeap.2))
}
if ProcessInfo.processInfo.environment["TRACE"] != nil {
    for sample in sampler.samples where Int(sample.0 * 50) % 10 == 0 {
        print(String(format: "  %5.2f s  heap %6.1f  rss %6.1f", sample.0, sample.1, sample.2))
    }
}
input = []
_ = mallocTrim(0)
report("input dropped, trimmed")
let snapshot = registry!.snapshot()
print("names \(snapshot.statistics.names), objects \(registry!.objects.count)")
var objectsOnly: ClusterObjects? = registry!.objects
registry = nil
_ = mallocTrim(0)
report("registry dropped (snapshot+objects kept)")
withExtendedLifetime(snapshot) {}
objectsOnly = nil
_ = mallocTrim(0)
report("objects dropped (snapshot kept)")
withExtendedLifetime(snapshot) {}
