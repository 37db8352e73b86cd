import Foundation
import TestSupport
import Testing

// `ota bench fleet` runs end to end on a small fleet (with `ota serve` as a child) and reports figures that add
// up (the benchmark itself is a release-build command; this only checks that it measures what it says).
@Suite(.serialized) struct BenchFleetCLITests {
    @Test func aSmallFleetBenchCompletesAndReportsConsistentFigures() async throws {
        let result = try await OTACLI.run(["bench", "fleet", "--devices", "6", "--image-size", "128KiB", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(figures["succeeded"] as? Int == 6)
        let p50 = try #require(figures["perDeviceSecondsP50"] as? Double)
        let p99 = try #require(figures["perDeviceSecondsP99"] as? Double)
        let total = try #require(figures["endToEndSeconds"] as? Double)
        #expect(0 < p50 && p50 <= p99 && p99 <= total + 0.5)
        #expect((figures["rawTLSMiBPerSecond"] as? Double ?? 0) > 0 && (figures["ratio"] as? Double ?? 0) > 0)
        #expect((figures["notSucceeded"] as? [String])?.isEmpty == true)
        // The service ran as its own process: its memory and CPU are measured apart from the devices'.
        let servicePeak = try #require(figures["servicePeakMiB"] as? Double)
        let devicesPeak = try #require(figures["devicesProcessPeakMiB"] as? Double)
        #expect(servicePeak > 10 && devicesPeak > 10 && servicePeak != devicesPeak)
        #expect(
            (figures["serviceCPUSeconds"] as? Double ?? 0) > 0 && (figures["devicesCPUSeconds"] as? Double ?? 0) > 0)
        #expect((figures["serviceCPUMillisecondsPerMiB"] as? Double ?? 0) > 0)
        // Raw TLS ran twice, before the fleet and after it (the progress lines show the order); the CPU ratio's
        // baseline is the cheaper run, the goodput ratio's the faster one.
        let rawRuns = try #require(figures["rawTLSCPUMillisecondsPerMiBRuns"] as? [Double])
        #expect(rawRuns.count == 2 && rawRuns.allSatisfy { $0 > 0 })
        #expect(figures["rawTLSCPUMillisecondsPerMiB"] as? Double == rawRuns.min())
        let rawSpeeds = try #require(figures["rawTLSMiBPerSecondRuns"] as? [Double])
        #expect(rawSpeeds.count == 2 && figures["rawTLSMiBPerSecond"] as? Double == rawSpeeds.max())
        let ratio = try #require(figures["serviceToRawTLSCPURatio"] as? Double)
        let service = try #require(figures["serviceCPUMillisecondsPerMiB"] as? Double)
        #expect(abs(ratio - service / rawRuns.min()!) < 1e-9)
        #expect(figures["quietBeforeUpdate"] is Bool)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let order = ["baseline: raw TLS", "connecting 6 devices", "updating 6 devices", "baseline again"].map { line in
            lines.firstIndex { $0.contains(line) }
        }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "\(lines)")
    }

    /// Rounds alternate the SQLite baseline and the instances on PostgreSQL, each round a full comparison; the
    /// summary is computed from the rounds (median, range, ratio of the means).
    @Test func roundsAlternateTheBaselineAndTheInstancesAndSummarizeTheirRatios() async throws {
        let database = try TestPostgresServer.url()
        let result = try await OTACLI.run([
            "bench", "fleet", "--devices", "3", "--image-size", "64KiB", "--database", database, "--instances", "2",
            "--rounds", "2", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("round 1 of 2") && result.stderr.contains("round 2 of 2"))
        let series = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rounds = try #require(series["rounds"] as? [[String: Any]])
        #expect(rounds.count == 2)
        var ratios: [Double] = []
        var means = (cluster: 0.0, single: 0.0)
        for round in rounds {
            let single = try #require(round["single"] as? [String: Any])
            let cluster = try #require(round["cluster"] as? [String: Any])
            #expect(single["succeeded"] as? Int == 3 && cluster["succeeded"] as? Int == 3)
            #expect(single["instances"] as? Int == 1 && cluster["instances"] as? Int == 2)
            let (s, c) = (
                try #require(single["serviceCPUMillisecondsPerMiB"] as? Double),
                try #require(cluster["serviceCPUMillisecondsPerMiB"] as? Double)
            )
            ratios.append(c / s)
            means = (means.cluster + c / 2, means.single + s / 2)
        }
        let reported = try #require(series["cpuPerMiBRatios"] as? [Double])
        #expect(zip(reported, ratios).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(abs((series["cpuPerMiBRatioMedian"] as? Double ?? 0) - (ratios[0] + ratios[1]) / 2) < 1e-9)
        // The ratios recomputed from figures that went through JSON: equal to within rounding.
        #expect(abs((series["cpuPerMiBRatioMin"] as? Double ?? 0) - ratios.min()!) < 1e-9)
        #expect(abs((series["cpuPerMiBRatioMax"] as? Double ?? 0) - ratios.max()!) < 1e-9)
        #expect(abs((series["cpuPerMiBRatioOfMeans"] as? Double ?? 0) - means.cluster / means.single) < 1e-9)
    }

    @Test(arguments: [
        (["--max-per-minute", "5000"], "--max-per-minute must be 1–1000"),
        (["--devices", "0"], "--devices must be at least 1"),
        (["--image-size", "3MiB"], "the image size must be 64 KiB … 1400 KiB"),
    ])
    func badOptionsAreRefusedBeforeAnyWork(arguments: [String], message: String) async throws {
        let result = try await OTACLI.run(["bench", "fleet"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
