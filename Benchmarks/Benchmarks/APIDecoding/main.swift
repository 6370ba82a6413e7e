import ClusterRegistry
import Foundation

// Throughput of each way of decoding the API's list pages (issue #9), on one core:
//   swift run -c release APIDecoding [OBJECTS=10000] [OPTIONS, e.g. "tape"]
// (OPTIONS keeps the options whose description contains it; results are compared with Yams'
// only when it runs too).
// Pages of 500 items, as the reflector asks for. Each option's best of three runs; the options
// that run the rules are checked to give exactly what the Yams path gives.

let count = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 10_000
let chosen = CommandLine.arguments.dropFirst(2).first
let pageSize = 500

func pages(kind: String, apiVersion: String, _ item: (Int) -> String) -> [Page] {
    stride(from: 0, to: count, by: pageSize).map { start in
        let items = (start..<min(count, start + pageSize)).map(item)
        let text = SampleObjects.page(
            kind: kind + "List", apiVersion: apiVersion, items: items, rv: 12345, last: start + pageSize >= count)
        return Page(text: text, data: Data(text.utf8), bytes: Array(text.utf8), defaults: (apiVersion, kind))
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let inputs = [
    ("Service", pages(kind: "Service", apiVersion: "v1", SampleObjects.service)),
    ("EndpointSlice", pages(kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", SampleObjects.slice)),
]
for (kind, pages) in inputs {
    let bytes = pages.reduce(0) { $0 + $1.bytes.count }
    print("\(kind): \(count) objects, \(bytes / count) bytes each, pages of \(pageSize)")
    var reference: [Decoded] = []
    for option in DecodingOption.allCases where chosen.map(option.rawValue.contains) ?? true {
        var results: [Decoded] = []
        var best = Double.infinity
        for _ in 0..<3 {
            best = min(best, try seconds { results = try pages.map(option.decode) })
        }
        if option == .yams { reference = results }
        let same = zip(reference, results).allSatisfy { $0.objects == $1.objects && $0.errors == $1.errors }
        let verdict = option.decodes && !reference.isEmpty ? (same ? "same result" : "DIFFERENT RESULT") : ""
        let name = option.rawValue.padding(toLength: 46, withPad: " ", startingAt: 0)
        print("  " + name + String(format: " %7.1f MB/s %9.0f objects/s ", Double(bytes) / best / 1e6, Double(count) / best) + verdict)
    }
}
