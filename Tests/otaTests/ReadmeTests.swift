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
        // `ota` on PATH is the built binary itself (not a shell function), so a backgrounded `ota serve` is a
        // direct child that the EXIT trap can stop.
        let bin = directory.path("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/ota", withDestinationPath: try OTACLI.executable)
        try FileManager.default.createDirectory(atPath: directory.path("work"), withIntermediateDirectories: true)
        let script =
            "set -euo pipefail\nexport PATH=\"\(bin):$PATH\"\ncd \"\(directory.path("work"))\"\n"
            + "trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null || true' EXIT\n"
            + blocks.joined(separator: "\n").replacingOccurrences(of: "swift run -c release ota", with: "ota")
            .replacingOccurrences(of: "swift run ota", with: "ota")
        let result = try ExternalTools.run("bash", ["-c", script])
        #expect(result.status == 0, "README commands failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Loaded app thermostat 1.1.0"), "the simulated device took the update")
        #expect(result.stdout.contains("esp32-0001  #1  SUCCEEDED"))
        for thing in ["sim-001", "sim-002", "sim-003"] {
            #expect(result.stdout.contains("\(thing)  #1  SUCCEEDED"), "the fleet's \(thing) took the update")
        }
        for bench in ["image", "sign", "mqtt", "jobs", "fleet"] {
            #expect(result.stdout.contains("ota bench \(bench)"), "bench \(bench) printed its figures")
        }
        #expect(result.stdout.contains("succeeded                         20/20"), "bench fleet: every device")
        for made in [
            "app.bin", "partitions.bin", "signer.key", "app-sbv1.bin", "pki/ca.pem", "esp32-0002.pem",
            "ota-data/admin-token", "sim-1/flash.bin", "creds/sim-003.key", "fleet/sim-002/flash.bin", "fleet.json",
        ] {
            #expect(FileManager.default.fileExists(atPath: directory.path("work/" + made)), "\(made)")
        }
    }
}
