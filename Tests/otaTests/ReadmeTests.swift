import Foundation
import TestSupport
import Testing

// The README's command blocks marked `<!-- readme-test -->` are run as written, in order, in one empty directory,
// with `swift run ota` standing for the built `ota`: the README cannot drift from the code there.
@Suite(.serialized) struct ReadmeTests {
    @Test func theMarkedREADMEBlocksRunAsWritten() async throws {
        let blocks = try DocumentedCommands.blocks(in: "README.md", marker: "readme-test")
        #expect(blocks.count >= 2, "the README marks its tested blocks")
        let directory = try DocumentedCommands.workspace("readme")
        let script = DocumentedCommands.script(
            blocks, in: directory, trap: "kill $(jobs -p) 2>/dev/null; wait 2>/dev/null || true")
        let result = try await ExternalTools.run("bash", ["-c", script])
        #expect(result.status == 0, "README commands failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Loaded app thermostat 1.1.0"), "the simulated device took the update")
        #expect(result.stdout.contains("esp32-0001  #1  SUCCEEDED"))
        for thing in ["sim-001", "sim-002", "sim-003"] {
            #expect(result.stdout.contains("\(thing)  #1  SUCCEEDED"), "the fleet's \(thing) took the update")
        }
        for bench in ["image", "sign", "mqtt", "jobs", "fleet", "abuse"] {
            #expect(result.stdout.contains("ota bench \(bench)"), "bench \(bench) printed its figures")
        }
        #expect(result.stdout.contains("succeeded                         20/20"), "bench fleet: every device")
        let abused = result.stdout.split(separator: "\n").first { $0.contains("legitimate devices succeeded") }
        #expect(abused?.split(separator: " ").filter { $0 == "4/4" }.count == 2, "bench abuse: every device, twice")
        for made in [
            "app.bin", "partitions.bin", "signer.key", "app-sbv1.bin", "pki/ca.pem", "esp32-0002.pem",
            "ota-data/admin-token", "sim-1/flash.bin", "creds/sim-003.key", "fleet/sim-002/flash.bin", "fleet.json",
        ] {
            #expect(FileManager.default.fileExists(atPath: directory.path("work/" + made)), "\(made)")
        }
    }
}
