import Foundation
import TestSupport
import Testing

// `ota demo`, the README's main command, as a user runs it: every step must report its expected outcome.
@Suite(.serialized) struct DemoCLITests {
    @Test func theDemoShowsEveryOutcomeAndExitsZero() async throws {
        let result = try await OTACLI.run(["demo", "--devices", "6", "--json"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["ok"] as? Bool == true)
        let steps = try #require(summary["steps"] as? [[String: Any]])
        #expect(
            steps.compactMap { $0["name"] as? String } == [
                "provision 6 devices", "roll out 1.1.0", "new device gets 1.1.0", "older firmware erased",
                "1.2.0 self-test fails → rollback",
                "bad signature refused", "1.4.0 over HTTPS",
            ])
        #expect(steps.allSatisfy { $0["ok"] as? Bool == true })
        // Every device ends on 1.4.0 (delivered over HTTPS); once it proved itself every older image was erased:
        // the factory's 1.0.0, 1.1.0, and the 1.2.0 that failed its self-test where a device had it.
        let fleet = try #require(summary["fleet"] as? [[String: Any]])
        #expect(fleet.count == 7)
        for device in fleet {
            let slots = try #require(device["slots"] as? [[String: Any]])
            let running = slots.filter { $0["running"] as? Bool == true }
            #expect(running.count == 1 && running.first?["version"] as? String == "1.4.0", "\(device)")
            #expect(slots.first?["name"] as? String == "factory" && slots.first?["content"] as? String == "erased")
            #expect(slots.filter { $0["version"] != nil }.count == 1, "\(device)")
        }
    }

    @Test func theHumanOutputEndsWithTheSummaryTable() async throws {
        let result = try await OTACLI.run(["demo", "--devices", "4"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Summary (5 devices)") && result.stdout.contains("All outcomes as expected."))
        #expect(result.stdout.contains("Rolling out firmware 1.1.0"))
    }

    /// Three instances on one PostgreSQL database, the devices spread over them, the demo driving the first: every
    /// outcome needs the updates created there to reach the other two instances' devices.
    @Test func theDemoRunsAcrossThreeInstancesSharingPostgreSQL() async throws {
        let database = try TestPostgresServer.url()
        let result = try await OTACLI.run(["demo", "--devices", "6", "--database", database, "--instances", "3"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("3 instance(s) on postgres://") }
        let ports = line?.split(separator: "device ports ").last?.split(separator: ", ").compactMap { Int($0) }
        #expect(Set(ports ?? []).count == 3, "three device ports: \(line ?? "none")")
        #expect(result.stdout.contains("All outcomes as expected."))
    }
}
