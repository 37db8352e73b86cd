import Foundation
import TestSupport
import Testing

// The README's command blocks marked `<!-- readme-test -->` are run as written, in order, in one empty directory,
// with `swift run ota` standing for the built `ota`: the README cannot drift from the code there.
@Suite(.serialized) struct ReadmeTests {
    static func markedBlocks() throws -> [String] {
        let readme = try String(
            contentsOf: ExternalTools.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var marked = false
        var current: [String]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("<!-- readme-test") {
                marked = true
            } else if line == "```sh", marked {
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

    @Test func theMarkedREADMEBlocksRunAsWritten() throws {
        let blocks = try Self.markedBlocks()
        #expect(blocks.count >= 2, "the README marks its tested blocks")
        let directory = try TemporaryDirectory("readme")
        let script =
            "set -euo pipefail\ncd \"\(directory.url.path)\"\nota() { \"\(try OTACLI.executable)\" \"$@\"; }\n"
            + blocks.joined(separator: "\n").replacingOccurrences(of: "swift run -c release ota", with: "ota")
            .replacingOccurrences(of: "swift run ota", with: "ota")
        let result = try ExternalTools.run("bash", ["-c", script])
        #expect(result.status == 0, "README commands failed:\n\(result.stdout)\n\(result.stderr)")
        for made in ["app.bin", "partitions.bin", "signer.key", "app-sbv1.bin", "pki/ca.pem", "esp32-0002.pem"] {
            #expect(FileManager.default.fileExists(atPath: directory.path(made)), "\(made)")
        }
    }
}
