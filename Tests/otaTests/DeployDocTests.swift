import Foundation
import TestSupport
import Testing

// docs/deploy.md's blocks marked `<!-- deploy-test -->` run as written, in order: three `ota serve` on a real
// PostgreSQL behind a real HAProxy, six simulated ESP32s updated through the balancer while the first instance is
// killed with SIGKILL mid-rollout. Every execution must end SUCCEEDED exactly once.
@Suite(.serialized) struct DeployDocTests {
    @Test func threeInstancesBehindHAProxyFinishARolloutWhenOneIsKilled() async throws {
        let blocks = try DocumentedCommands.blocks(in: "docs/deploy.md", marker: "deploy-test")
        #expect(blocks.count >= 4, "docs/deploy.md marks its tested blocks")
        let directory = try DocumentedCommands.workspace("deploy")
        // The document runs from the repository's root: its scripts/ is there.
        try FileManager.default.createSymbolicLink(
            atPath: directory.path("work/scripts"),
            withDestinationPath: ExternalTools.packageRoot.appendingPathComponent("scripts").path)
        let script = DocumentedCommands.script(
            blocks, in: directory,
            trap: "kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; "
                + "[ -z \"${pg:-}\" ] || \"\(directory.path("work"))/scripts/postgres-cluster\" stop \"$pg\"")
        let result = try await ExternalTools.run("bash", ["-c", script])
        let logs = ["node1", "node2", "node3", "haproxy"].map { name in
            "--- \(name).log\n"
                + ((try? String(contentsOfFile: directory.path("work/cluster/\(name).log"), encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
        #expect(result.status == 0, "docs/deploy.md failed:\n\(result.stdout)\n\(result.stderr)\n\(logs)")
        let executions = result.stdout.split(separator: "\n").filter { $0.hasPrefix("lab-") }
        #expect(executions.count == 6, "one execution per device, none twice:\n\(result.stdout)")
        for n in 1...6 {
            let thing = String(format: "lab-%03d", n)
            #expect(result.stdout.contains("\(thing)  #1  SUCCEEDED"), "\(thing) took the update:\n\(result.stdout)")
        }
        let node1 = (try? String(contentsOfFile: directory.path("work/cluster/node1.log"), encoding: .utf8)) ?? ""
        #expect(!node1.contains("Stopping"), "node1 was killed, not stopped")
        let survivors = ["node2", "node3"].compactMap {
            try? String(contentsOfFile: directory.path("work/cluster/\($0).log"), encoding: .utf8)
        }
        #expect(
            survivors.contains { $0.contains("scheduler: this instance now runs the rollouts") },
            "another instance took the scheduler over")
    }
}
