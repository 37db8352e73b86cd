import Foundation
import TestSupport
import Testing

// `ota bench mqtt` runs our server (`ota bench mqtt-server`) and a real mosquitto under the same small load and
// reports figures that add up. The benchmark itself is a release-build command; this checks that it measures what
// it says, not how fast anything is.
@Suite(.serialized) struct BenchMQTTCLITests {
    @Test func aSmallRunReportsBothServersWithEveryMessageDelivered() async throws {
        let result = try await OTACLI.run([
            "bench", "mqtt", "--connections", "20", "--publishers", "3", "--messages", "40", "--payload", "64",
            "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for server in ["ours", "mosquitto"] {
            let side = try #require(figures[server] as? [String: Any], "\(server)")
            #expect(side["idleConnections"] as? Int == 20, "\(server)")
            #expect((side["bytesPerConnection"] as? Double ?? 0) > 0, "\(server)")
            for qos in ["qos0", "qos1"] {
                let run = try #require(side[qos] as? [String: Any], "\(server) \(qos)")
                #expect(run["delivered"] as? Int == 120, "\(server) \(qos)")
                let p50 = try #require(run["latencyMillisecondsP50"] as? Double)
                let p99 = try #require(run["latencyMillisecondsP99"] as? Double)
                #expect(0 < p50 && p50 <= p99, "\(server) \(qos)")
                // The server read the publishes and wrote the deliveries: its system calls are counted.
                #expect((run["serverSystemCallsPerMessage"] as? Double ?? 0) > 0, "\(server) \(qos)")
                // Nanosecond run times: some CPU for every message, and less than a tenth of a second each.
                let cpu = try #require(run["serverCPUMicrosecondsPerMessage"] as? Double)
                #expect(cpu > 0 && cpu < 100_000, "\(server) \(qos): \(cpu) µs per message")
            }
        }
        let ratios = try #require(figures["qos1"] as? [String: Any])
        #expect((ratios["throughput"] as? Double ?? 0) > 0 && (ratios["latencyP99"] as? Double ?? 0) > 0)
    }

    @Test(arguments: [
        (["--payload", "4"], "--payload must be at least 8 bytes"),
        (["--publishers", "0"], "must be at least 1"),
        (["--messages", "0"], "must be at least 1"),
    ])
    func flagsThatCannotMakeARunAreRefusedBeforeAnyServerStarts(flags: [String], message: String) async throws {
        let result = try await OTACLI.run(["bench", "mqtt"] + flags)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
