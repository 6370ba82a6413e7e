import ArgumentParser
import DNSServer
import Logging

extension LogLineHandler.Format: ExpressibleByArgument {}

/// `serve --log-format`: how the start-up, reload and API-source lines are written (the query
/// log keeps CoreDNS's own format either way).
struct LogOptions: ParsableArguments {
    @Option(help: "Log lines as text (message plus key=value pairs) or json (one object per line).")
    var logFormat: LogLineHandler.Format = .text

    /// Installs the handler for the whole process; call once, first thing in `run()`.
    func bootstrap() {
        let format = logFormat
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, format: format) }
    }
}
