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
