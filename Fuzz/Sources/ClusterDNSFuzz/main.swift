#if canImport(Glibc)
import Glibc
#endif

// `clusterdns-fuzz TARGET [libFuzzer options] [CORPUS…]` runs one target under libFuzzer;
// `clusterdns-fuzz seeds DIR` writes the seed corpora (DIR/TARGET/…), which are committed in
// Fuzz/Corpus and regenerated with `scripts/fuzz --seeds`. Built with `-sanitize=fuzzer` by
// scripts/fuzz: SwiftPM keeps this file's top-level code as the program's entry point, and
// libFuzzer's driver is started from here with the chosen target's callback.

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: clusterdns-fuzz TARGET [libFuzzer options] | seeds DIR\ntargets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    exit(2)
}
if arguments[1] == "seeds", arguments.count == 3 {
    do {
        try Seeds.write(to: arguments[2])
        exit(0)
    } catch {
        print("seeds: \(error)")
        exit(1)
    }
}
guard let target = FuzzTarget(rawValue: arguments[1]) else {
    print("unknown target \(arguments[1]); targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    exit(2)
}
FuzzTarget.selected = target
target.prepare()

// libFuzzer reads its own options from argv: the program name, then everything after TARGET.
var driverArguments: [UnsafeMutablePointer<CChar>?] = [strdup(arguments[0])] + arguments.dropFirst(2).map { strdup($0) } + [nil]
var driverCount = Int32(driverArguments.count - 1)
let status = driverArguments.withUnsafeMutableBufferPointer { buffer in
    var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&driverCount, &pointer) { data, count in
        FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
        return 0
    }
}
exit(status)
