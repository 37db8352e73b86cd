import ArgumentParser

/// `ota` — one command-line tool in front of SwiftOTA.
struct OTACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ota",
        abstract: "SwiftOTA: secure over-the-air updates for ESP32 fleets.",
        subcommands: [])
}
