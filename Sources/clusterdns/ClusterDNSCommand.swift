import ArgumentParser

@main
struct ClusterDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterdns",
        abstract: "Kubernetes cluster DNS (service discovery) from a directory of manifests.",
        subcommands: [ServeCommand.self, CheckCommand.self, RecordsCommand.self, ExplainCommand.self],
        defaultSubcommand: ServeCommand.self)
}
