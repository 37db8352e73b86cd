import ArgumentParser

/// `ota` — one command-line tool in front of SwiftOTA.
@main
struct OTACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ota",
        abstract: "SwiftOTA: secure over-the-air updates for ESP32 fleets.",
        subcommands: [
            DemoCommand.self, ImageCommand.self, PartitionsCommand.self, KeysCommand.self, CACommand.self,
            CertCommand.self,
            SignCommand.self, VerifyCommand.self, ServeCommand.self, ThingsCommand.self, GroupsCommand.self,
            FilesCommand.self, UpdatesCommand.self, JobsCommand.self, UsersCommand.self, AuditCommand.self,
            SimulateCommand.self, BenchCommand.self,
        ])
}
