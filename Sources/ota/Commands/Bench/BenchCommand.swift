import ArgumentParser

/// `ota bench` — the benchmarks; their machinery is in OTABench.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures and the ratio to a baseline measured in the same run.",
        discussion: "Build in release mode for meaningful figures: swift run -c release ota bench ...",
        subcommands: [
            BenchImageCommand.self, BenchSignCommand.self, BenchMQTTCommand.self, BenchMQTTServerCommand.self,
            BenchJobsCommand.self, BenchFleetCommand.self, BenchAbuseCommand.self,
        ])
}
