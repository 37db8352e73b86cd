import Foundation
import TestSupport

/// The shell blocks (or, with `language`, blocks of another kind) of a Markdown document that follow a
/// `<!-- marker` comment line, in order: documents whose commands or configuration a test uses as written
/// (README.md, docs/deploy.md, docs/monitoring.md).
enum DocumentedCommands {
    static func blocks(in document: String, marker: String, language: String = "sh") throws -> [String] {
        let text = try String(
            contentsOf: ExternalTools.packageRoot.appendingPathComponent(document), encoding: .utf8)
        var blocks: [String] = []
        var marked = false
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("<!-- " + marker) {
                marked = true
            } else if line == "```" + language, marked {
                current = []
            } else if line == "```", let lines = current {
                blocks.append(lines.joined(separator: "\n"))
                current = nil
                marked = false
            } else if current != nil {
                current!.append(String(line))
            }
        }
        return blocks
    }

    /// A directory with `bin/ota`, the built binary itself (not a shell function, so a backgrounded `ota serve`
    /// is a direct child the EXIT trap can stop), and an empty `work/` to run in.
    static func workspace(_ name: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(name)
        let bin = directory.path("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/ota", withDestinationPath: try OTACLI.executable)
        try FileManager.default.createDirectory(atPath: directory.path("work"), withIntermediateDirectories: true)
        return directory
    }

    /// `blocks` as one bash script run in `workspace`'s work/, with `swift run ota` standing for the built `ota`.
    static func script(_ blocks: [String], in workspace: TemporaryDirectory, trap: String) -> String {
        "set -euo pipefail\nexport PATH=\"\(workspace.path("bin")):$PATH\"\ncd \"\(workspace.path("work"))\"\n"
            + "trap '\(trap)' EXIT\n"
            + blocks.joined(separator: "\n").replacingOccurrences(of: "swift run -c release ota", with: "ota")
            .replacingOccurrences(of: "swift run ota", with: "ota")
    }
}
