import Foundation
import OTAWire
import TestSupport
import Testing

@testable import OTAService

// /metrics as Prometheus reads it: what the service did (packets, blocks, execution changes, signature failures,
// request and transaction times) and what it is (connected devices, each active rollout), behind its own token.
@Suite(.serialized) struct MetricsTests {
    /// The Prometheus text exposition, parsed into `series → value` ("name{a=\"x\",b=\"y\"}" as emitted).
    struct Scrape {
        let series: [String: Double]

        init(_ text: String) {
            var series: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
                else { continue }
                series[String(line[..<space])] = value
            }
            self.series = series
        }

        subscript(_ name: String, _ labels: [(String, String)] = []) -> Double? {
            let key =
                labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
            return series[key]
        }

        /// Every series of `name` whatever its labels.
        func all(_ name: String) -> [String: Double] {
            series.filter { $0.key == name || $0.key.hasPrefix(name + "{") }
        }
    }

    static func scrape(_ service: ServiceHarness) async throws -> Scrape {
        let api = try APICaller(service, token: try TokenFile.read(service.server.metricsToken.path))
        defer { Task { await api.shutdown() } }
        let answer = try await api.call(.GET, "/metrics")
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        return Scrape(answer.text)
    }

    @Test func aScrapeReportsTheTrafficTheBlocksTheExecutionChangesAndTheRollout() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("m1")
        defer { Task { await device.close() } }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 20_000)
        _ = try await service.createUpdate("u1", file: file, things: ["m1"])
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-u1") })
        let jobs = "$aws/things/m1/jobs/"
        try await device.publish(jobs + "AFR_OTA-u1/update", json: #"{"status":"IN_PROGRESS"}"#)
        _ = try await device.take(jobs + "AFR_OTA-u1/update/accepted")
        let stream = "$aws/things/m1/streams/\(job.streamID)/"
        try await device.publish(stream + "get/json", json: #"{"f":0,"l":4096,"o":0,"n":2}"#)
        _ = try await device.take(stream + "data/json", count: 2)

        let during = try await Self.scrape(service)
        #expect(during["swiftota_mqtt_connected_clients"] == 1)
        #expect(during["swiftota_blocks_served_total", [("protocol", "mqtt")]] == 2)
        #expect(during["swiftota_block_bytes_served_total", [("protocol", "mqtt")]] == 8192)
        #expect(during["swiftota_updates_active"] == 1)
        #expect(during["swiftota_update_executions", [("update", "u1"), ("status", "IN_PROGRESS")]] == 1)
        #expect(during["swiftota_update_executions", [("update", "u1"), ("status", "SUCCEEDED")]] == 0)
        #expect(during["swiftota_job_execution_changes_total", [("to", "QUEUED")]] == 1)
        #expect(during["swiftota_job_execution_changes_total", [("to", "IN_PROGRESS")]] == 1)
        // CONNECT, SUBSCRIBEs, the two requests: more than a handful in; the blocks went out.
        #expect((during["swiftota_mqtt_received_packets_total"] ?? 0) >= 3)
        #expect((during["swiftota_mqtt_sent_bytes_total"] ?? 0) > 8192)
        #expect((during["swiftota_storage_transaction_seconds_count", [("kind", "write")]] ?? 0) >= 2)
        #expect(during["swiftota_database_up"] == 1)
        #expect(during["swiftota_scheduler_leader"] == 1)

        // The device refuses the image's signature (an ingest failure with PAL main code 0xe3).
        try await device.publish(
            jobs + "AFR_OTA-u1/update",
            json: #"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}"#)
        _ = try await device.take(jobs + "AFR_OTA-u1/update/accepted")
        try await service.server.engine.tick()
        let after = try await Self.scrape(service)
        #expect(after["swiftota_signature_failures_total", [("where", "device")]] == 1)
        #expect(after["swiftota_job_execution_changes_total", [("to", "FAILED")]] == 1)
        #expect(after["swiftota_updates_active"] == 0)
        #expect(after.all("swiftota_update_executions").isEmpty, "a finished rollout leaves the scrape")
        #expect(after.all("swiftota_update_pending_targets").isEmpty)
        #expect(
            (after["swiftota_mqtt_received_packets_total"] ?? 0) > (during["swiftota_mqtt_received_packets_total"] ?? 0)
        )
    }

    @Test func onlyTheMetricsOrAdminTokenOpensMetricsAndTheMetricsTokenOpensNothingElse() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let mode = try FileManager.default.attributesOfItem(atPath: service.server.metricsToken.path)[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)
        let metricsToken = try TokenFile.read(service.server.metricsToken.path)
        let adminToken = try TokenFile.read(service.server.adminToken.path)
        #expect(metricsToken != adminToken)
        // One character changed (a fixed "0" would be no change for a token that starts with one).
        let altered = (metricsToken.hasPrefix("0") ? "1" : "0") + metricsToken.dropFirst()
        for (token, status) in [(nil, 401), (altered, 401), (adminToken, 200), (metricsToken, 200)] {
            let api = try APICaller(service, token: token)
            #expect(try await api.call(.GET, "/metrics").status == status, "token \(token == nil ? "none" : "given")")
            await api.shutdown()
        }
        let scraper = try APICaller(service, token: metricsToken)
        #expect(try await scraper.call(.GET, "/api/v1/status").status == 401)
        #expect(try await scraper.call(.POST, "/api/v1/things", json: #"{"name":"x"}"#).status == 401)
        await scraper.shutdown()
        #expect(try await service.server.store.read { try $0.things() }.isEmpty)
    }

    @Test func aRefusedSuppliedSignatureIsCountedAndRequestRoutesAreThePatternsNotThePaths() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        _ = try await service.server.registry.createThing("t1", attributes: [:])
        await #expect(throws: OTAServiceError.self) {
            _ = try await service.createUpdate("forged", file: file, things: ["t1"]) { $0.signature = "MEUCIQ==" }
        }
        let api = try APICaller(service, token: try TokenFile.read(service.server.adminToken.path))
        #expect(try await api.call(.GET, "/api/v1/things/no-such-thing-7f3a").status == 404)
        #expect(try await api.call(.GET, "/no-such-path-9c1e").status == 404)
        await api.shutdown()
        let scrape = try await Self.scrape(service)
        #expect(scrape["swiftota_signature_failures_total", [("where", "update")]] == 1)
        #expect(scrape["swiftota_signature_failures_total", [("where", "device")]] == 0)
        let requests = scrape.all("swiftota_api_request_seconds_count")
        #expect(
            requests.keys.contains { $0.contains(#"route="/api/v1/things/{name}""#) && $0.contains(#"status="404""#) },
            "\(requests.keys.sorted())")
        #expect(!requests.keys.contains { $0.contains("no-such") }, "client-chosen paths never become series")
    }

    @Test func aDeviceCertificateFromAnUnknownCAIsAFailedHandshake() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let pki = try OpenSSLPKI(directory: service.directory.path("stranger-pki"))
        let authority = try await pki.make("stranger-ca", commonName: "Stranger CA", profile: .authority)
        let device = try await pki.make("stranger", commonName: "stranger", profile: .clientDevice, signedBy: authority)
        let before = try await Self.scrape(service)
        #expect(before["swiftota_mqtt_tls_handshake_failures_total"] == 0)
        let result = try await ExternalTools.run(
            "mosquitto_pub",
            [
                "-h", "127.0.0.1", "-p", "\(service.port)", "--cafile", service.server.pki.caCertificatePath,
                "--cert", device.certificatePath, "--key", device.keyPath, "-i", "stranger", "-q", "1",
                "-t", "$aws/things/stranger/jobs/get", "-m", "{}",
            ])
        #expect(result.status != 0)
        let after = try await Self.scrape(service)
        #expect(after["swiftota_mqtt_tls_handshake_failures_total"] == 1)
        #expect(after["swiftota_mqtt_connected_clients"] == 0)
    }

    @Test func onlySignatureReasonsCountAsSignatureFailures() {
        let cases: [(String?, Bool)] = [
            (#"{"reason":"0x000000e3: 0x00000000"}"#, true),
            (#"{"reason":"0x000000E7: 0x00000001"}"#, true),
            (#"{"reason":"0x000000e4: 0x00000000"}"#, false),
            (#"{"reason":"rejected: 0x000000e3"}"#, false),
            (#"{"reason":17}"#, false),
            (#"{"reason":"0x000000e3"#, false),
            (nil, false),
        ]
        for (details, expected) in cases {
            #expect(DeviceFailureReason.isSignatureFailure(details) == expected, "\(details ?? "nil")")
        }
    }
}
