import Foundation
import TestSupport
import Testing

// `ota simulate device` against `ota serve`, both as processes, with images made by `ota image build` and signed by
// `ota sign`: the device updates over MQTT/TLS, confirms, and after a restart (a power cycle) boots the new image.
@Suite(.serialized) struct SimulateCLITests {
    @Test func aSimulatedDeviceUpdatesFromTheServiceAndKeepsItsStateAcrossRestarts() async throws {
        let service = try ServiceProcess()
        defer { service.stop() }
        let work = service.directory
        func ota(_ arguments: [String]) throws -> String {
            let result = try OTACLI.run(arguments)
            guard result.status == 0 else {
                throw ServiceProcessError(description: "ota \(arguments.joined(separator: " ")): \(result.stderr)")
            }
            return result.stdout
        }
        _ = try ota(["keys", "generate", "-o", work.path("signer.key")])
        _ = try ota([
            "cert", "self-signed", "--key", work.path("signer.key"), "--days", "30", "-o", work.path("signer.pem"),
        ])
        try work.write("payload.bin", (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for (version, name) in [("1.0.0", "factory.bin"), ("1.1.0", "update.bin")] {
            _ = try ota([
                "image", "build", "--project", "thermostat", "--version", version, "--payload",
                work.path("payload.bin"),
                "--secure-boot-v1-padding", "-o", work.path(name),
            ])
        }
        _ = try ota([
            "sign", work.path("factory.bin"), "--key", work.path("signer.key"), "--cert", work.path("signer.pem"),
            "-o", work.path("factory.sig"), "--secure-boot-v1", work.path("factory-signed.bin"),
        ])

        try service.cli(["things", "create", "sim-1"])
        try service.cli(["things", "issue-certificate", "sim-1", "--out", work.path("creds")])
        try service.cli([
            "files", "create-profile", "demo", "--certificate", work.path("signer.pem"), "--key-path",
            work.path("signer.key"),
        ])
        let file = try #require(try service.json(["files", "upload", work.path("update.bin")]) as? [String: Any])
        try service.cli([
            "updates", "create", "u1", "--file", try #require(file["id"] as? String), "--profile", "demo", "--thing",
            "sim-1",
        ])

        let device = work.path("device")
        let first = try ota([
            "simulate", "device", "--dir", device, "--server", "127.0.0.1:\(service.mqttPort)", "--thing", "sim-1",
            "--factory-image", work.path("factory-signed.bin"), "--credentials", work.path("creds"), "--signing-cert",
            work.path("signer.pem"), "--anti-rollback", "--exit-after-job", "--seconds", "60",
        ])
        #expect(first.contains("Loaded app thermostat 1.0.0") && first.contains("Loaded app thermostat 1.1.0"))
        #expect(first.contains("succeeded(jobID: \"AFR_OTA-u1\")"))
        let executions = try #require(try service.json(["jobs", "executions", "AFR_OTA-u1"]) as? [[String: Any]])
        #expect(executions.first?["status"] as? String == "SUCCEEDED")

        // Power cycle: the saved flash boots the confirmed image.
        let second = try ota([
            "simulate", "device", "--dir", device, "--server", "127.0.0.1:\(service.mqttPort)", "--seconds", "2",
        ])
        #expect(second.contains("Loaded app thermostat 1.1.0") && !second.contains("1.0.0"))
    }
}
