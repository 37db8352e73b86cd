import ArgumentParser
import Foundation
import Logging

/// `--json` for every command that prints data: people get text, programs get one JSON document on stdout.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    /// Prints `value` as JSON when --json is set, otherwise the text `human()` returns.
    func emit<T: Encodable>(_ value: T, human: () -> String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            print(human(), terminator: human().hasSuffix("\n") ? "" : "\n")
        }
    }
}

/// A command-line failure with a message that says what to do; ArgumentParser prints it as "Error: ...".
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parses "4MiB", "512KiB", "1M", "4096", "0x1000".
func parseByteCount(_ text: String) -> Int? {
    let units: [(String, Int)] = [
        ("mib", 1 << 20), ("kib", 1 << 10), ("mb", 1 << 20), ("kb", 1 << 10), ("m", 1 << 20), ("k", 1 << 10), ("b", 1),
    ]
    let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
    for (suffix, multiplier) in units where lower.hasSuffix(suffix) {
        guard let value = Int(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return value * multiplier
    }
    if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
    return Int(lower)
}

func hex(_ value: some BinaryInteger, width: Int = 0) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// Lifts the soft open-file limit to the hard one: a service or a bench with 10,000 connections needs
/// 10,000 descriptors.
func raiseFileDescriptorLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

/// For commands that run the service inside themselves (demo, benchmarks): its log lines would bury their own
/// output, so only critical ones are shown.
func bootstrapQuietLogging() {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .critical
        return handler
    }
}
