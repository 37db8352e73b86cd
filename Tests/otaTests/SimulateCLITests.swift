import Foundation
import TestSupport
import Testing

// `ota simulate device|fleet` against `ota serve`, all as processes, with images made by `ota image build` and
// signed by `ota sign`, as a person would run them.
@Suite(.serialized) struct SimulateCLITests {
    /// A running service with signing profile "demo", factory 1.0.0 (signed for secure boot) and update 1.1.0.
    struct Workbench {
        let service: ServiceProcess
        var work: TemporaryDirectory { service.directory }
        var mqtt: String { "127.0.0.1:\(service.mqttPort)" }

        init(serveOptions: [String] = []) async throws {
            service = try await ServiceProcess(options: serveOptions)
            let work = service.directory
            try await Self.ota(["keys", "generate", "-o", work.path("signer.key")])
            try await Self.ota([
                "cert", "self-signed", "--key", work.path("signer.key"), "--days", "30", "-o", work.path("signer.pem"),
            ])
            try work.write("payload.bin", (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            for (version, name) in [("1.0.0", "factory.bin"), ("1.1.0", "update.bin")] {
                try await Self.ota([
                    "image", "build", "--project", "thermostat", "--version", version, "--payload",
                    work.path("payload.bin"), "--secure-boot-v1-padding", "-o", work.path(name),
                ])
            }
            try await Self.ota([
                "sign", work.path("factory.bin"), "--key", work.path("signer.key"), "--cert", work.path("signer.pem"),
                "-o", work.path("factory.sig"), "--secure-boot-v1", work.path("factory-signed.bin"),
            ])
            // Sign-it-for-me keys live in the service's key store.
            let stored = service.dataDir + "/signing/signer.key"
            try FileManager.default.copyItem(atPath: work.path("signer.key"), toPath: stored)
            chmod(stored, 0o600)
            try await service.cli([
                "files", "create-profile", "demo", "--certificate", work.path("signer.pem"), "--key-path", stored,
            ])
        }

        @discardableResult
        static func ota(_ arguments: [String]) async throws -> String {
            let result = try await OTACLI.run(arguments)
            guard result.status == 0 else {
                throw ServiceProcessError(description: "ota \(arguments.joined(separator: " ")): \(result.stderr)")
            }
            return result.stdout
        }

        /// Things with certificates in work/creds, and update `id` (1.1.0) for them.
        func provision(_ things: [String], update id: String) async throws {
            for thing in things {
                try await service.cli(["things", "create", thing])
                try await service.cli(["things", "issue-certificate", thing, "--out", work.path("creds")])
            }
            let file = try await #require(
                try service.json(["files", "upload", work.path("update.bin")]) as? [String: Any])
            try await service.cli(
                ["updates", "create", id, "--file", try #require(file["id"] as? String), "--profile", "demo"]
                    + things.flatMap { ["--thing", $0] })
        }

        var firstRun: [String] {
            [
                "--factory-image", work.path("factory-signed.bin"), "--credentials", work.path("creds"),
                "--signing-cert", work.path("signer.pem"), "--anti-rollback",
            ]
        }
    }

    @Test func aSimulatedDeviceUpdatesFromTheServiceAndKeepsItsStateAcrossRestarts() async throws {
        let bench = try await Workbench()
        defer { bench.service.stop() }
        try await bench.provision(["sim-1"], update: "u1")
        let device = bench.work.path("device")
        // The first endpoint listed is down (another instance, say): the device goes on to the next.
        let servers = "127.0.0.1:\(try freeLoopbackPort()),\(bench.mqtt)"
        let first = try await Workbench.ota(
            ["simulate", "device", "--dir", device, "--server", servers, "--thing", "sim-1"] + bench.firstRun
                + ["--exit-after-job", "--seconds", "60"])
        #expect(first.contains("Loaded app thermostat 1.0.0") && first.contains("Loaded app thermostat 1.1.0"))
        #expect(first.contains("succeeded(jobID: \"AFR_OTA-u1\")"))
        let executions = try await #require(
            try bench.service.json(["jobs", "executions", "AFR_OTA-u1"]) as? [[String: Any]])
        #expect(executions.first?["status"] as? String == "SUCCEEDED")
        // Without --verbose the service logs one line per execution state change, and no device traffic.
        let log = bench.service.process.text
        for transition in ["new → QUEUED", "QUEUED → IN_PROGRESS", "IN_PROGRESS → SUCCEEDED"] {
            #expect(log.contains("execution AFR_OTA-u1 #1 \(transition)"), "\(transition) in:\n\(log)")
        }
        #expect(!log.contains("stream request answered") && !log.contains("jobs request accepted"))

        // Power cycle: the saved flash boots the confirmed image.
        let second = try await Workbench.ota([
            "simulate", "device", "--dir", device, "--server", bench.mqtt, "--seconds", "2",
        ])
        #expect(second.contains("Loaded app thermostat 1.1.0") && !second.contains("1.0.0"))

        // --json reports the slots: 1.1.0 running and confirmed, the factory app 1.0.0 erased after it.
        let report = try await Workbench.ota([
            "simulate", "device", "--dir", device, "--server", bench.mqtt, "--seconds", "2", "--json",
        ])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        #expect(json["runningVersion"] as? String == "1.1.0" && json["runningSlot"] as? String == "ota_0")
        let slots = try #require(json["slots"] as? [[String: Any]])
        #expect(slots.map { $0["name"] as? String } == ["factory", "ota_0", "ota_1"])
        #expect(slots.map { $0["content"] as? String } == ["erased", "image", "erased"], "\(slots)")
        #expect(slots[1]["version"] as? String == "1.1.0" && slots[1]["state"] as? String == "valid")
        #expect(slots[1]["running"] as? Bool == true && slots[1]["bootable"] as? Bool == true)
    }

    /// `--data-protocol` is stored with the device; a job that offers only MQTT is downloaded over MQTT even by a
    /// device that prefers HTTP.
    @Test func aDevicePreferringHTTPKeepsTheSettingAndTakesAnMQTTOnlyJobOverMQTT() async throws {
        let bench = try await Workbench()
        defer { bench.service.stop() }
        try await bench.provision(["sim-h"], update: "h1")
        let device = bench.work.path("device-h")
        let output = try await Workbench.ota(
            [
                "simulate", "device", "--dir", device, "--server", bench.mqtt, "--thing", "sim-h", "--data-protocol",
                "http",
            ]
                + bench.firstRun + ["--exit-after-job", "--seconds", "60"])
        #expect(output.contains("succeeded(jobID: \"AFR_OTA-h1\")"))
        func stored() async throws -> String? {
            let manifest = try JSONSerialization.jsonObject(with: Data(try bench.work.read("device-h/device.json")))
            return (manifest as? [String: Any])?["dataProtocol"] as? String
        }
        await #expect(try stored() == "http")
        // Given again for an existing device, the option replaces the stored preference.
        try await Workbench.ota([
            "simulate", "device", "--dir", device, "--server", bench.mqtt, "--seconds", "2", "--data-protocol", "mqtt",
        ])
        await #expect(try stored() == "mqtt")
    }

    /// `ota serve --verbose`: an operator follows one device with grep.
    @Test func theVerboseServiceLogLetsAnOperatorFollowOneDevice() async throws {
        let bench = try await Workbench(serveOptions: ["--verbose"])
        defer { bench.service.stop() }
        try await bench.provision(["traced", "other"], update: "v1")
        try await Workbench.ota(
            ["simulate", "device", "--dir", bench.work.path("traced"), "--server", bench.mqtt, "--thing", "traced"]
                + bench.firstRun + ["--exit-after-job", "--seconds", "60"])
        let lines = bench.service.process.text.split(separator: "\n").filter { $0.contains("traced") }
        func has(_ words: String...) -> Bool { lines.contains { line in words.allSatisfy { line.contains($0) } } }
        #expect(has("connected", "clean=true"))
        #expect(has("subscribe", "$aws/things/traced/jobs/notify-next"))
        #expect(has("jobs request accepted", "$next/get"))
        #expect(has("jobs request accepted", #""status":"IN_PROGRESS""#, "self_test"))
        #expect(has("stream request answered", "firstBlock=0", "bitmapBytes=", "sent="))
        #expect(has("execution AFR_OTA-v1 #1 IN_PROGRESS → SUCCEEDED", "thing=traced", "accepted"))
        #expect(has("disconnected"))
        #expect(!lines.contains { $0.contains("thing=other") }, "grep for one thing shows only that thing")
    }

    @Test func aFleetWithPowerCutsAndAFlakyNetworkStillUpdates() async throws {
        let bench = try await Workbench()
        defer { bench.service.stop() }
        let things = (1...4).map { String(format: "fl-%03d", $0) }
        try await bench.provision(things, update: "fleet1")
        let output = try await Workbench.ota(
            [
                "simulate", "fleet", "--count", "4", "--prefix", "fl", "--dir", bench.work.path("fleet"), "--server",
                bench.mqtt,
            ]
                + bench.firstRun
                + [
                    "--power-cut-rate", "1", "--flaky-network", "--seed", "7", "--exit-after-job", "--seconds", "90",
                    "--json",
                ])
        let devices = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(devices.count == 4)
        #expect(devices.allSatisfy { $0["runningVersion"] as? String == "1.1.0" }, "\(devices)")
        let slots = devices.map { ($0["slots"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String } }
        #expect(slots.allSatisfy { $0.sorted() == ["erased", "erased", "image"] }, "only 1.1.0 is left: \(slots)")
        let boots = devices.compactMap { $0["boots"] as? Int }.reduce(0, +)
        #expect(boots > 2 * 4, "power cuts forced extra boots (\(boots) boots for 4 devices)")
        let executions = try await #require(
            try bench.service.json(["jobs", "executions", "AFR_OTA-fleet1"]) as? [[String: Any]])
        #expect(executions.count == 4 && executions.allSatisfy { $0["status"] as? String == "SUCCEEDED" })
        #expect(FileManager.default.fileExists(atPath: bench.work.path("fleet/fl-001/flash.bin")))
    }
}
