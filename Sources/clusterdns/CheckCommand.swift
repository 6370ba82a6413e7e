import ArgumentParser
import ClusterRegistry

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Load and validate the manifests; print a summary; non-zero exit on errors.")

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let result = try registry.load()
        print("ok: \(result.snapshot.statistics.summary)")
        for warning in result.snapshot.statistics.warnings { print("warning: \(warning)") }
    }
}

struct RecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records", abstract: "Print every record that would be served, in zone-file form, sorted.")

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let result = try registry.load()
        for zone in result.zones {
            for record in zone.sortedRecords { print(RecordPresentation.line(record)) }
        }
    }
}
