import ArgumentParser
import Foundation
import OTAService

/// `ota audit` — the append-only trail of every change made through the management API, and every refusal.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the audit trail: who changed what, when, from where, before → after (admin only).")
    @Option(help: "Entries after this sequence number (page with the last one shown).") var after: Int64 = 0
    @Option(help: "At most this many entries (1–1000).") var limit = 100
    @Flag(help: "Also print each entry's before and after.") var details = false
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let entries: [AuditEntry] = try await connection.withClient {
            try await $0.get("/audit?after=\(after)&limit=\(limit)")
        }
        try output.emit(entries) {
            guard !entries.isEmpty else { return "No audit entries after #\(after)" }
            return entries.map { entry in
                var lines = [
                    "#\(entry.sequence ?? 0)  \(timestamp(entry.at))  \(entry.actor) (\(entry.role)) from \(entry.source)"
                        + "  \(entry.action)" + (entry.target.map { "  [\($0)]" } ?? "") + "  → \(entry.status)"
                ]
                if details {
                    if let before = entry.before { lines.append("    before \(before)") }
                    if let after = entry.after { lines.append("    after  \(after)") }
                }
                // What clients sent (a path, a label) is printed without control or format characters: no entry
                // can move the cursor, recolour or hide lines of the terminal it is read in.
                return lines.map { Names.printable($0, replacement: "?") }.joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }
}
