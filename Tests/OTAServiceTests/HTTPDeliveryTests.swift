import Foundation
import OTAService
import OTAWire
import TestSupport
import Testing

// Updates delivered over HTTPS from the service's own port (aws-ota-wire.md §8): the job document a device
// receives carries a URL made for that delivery; the URL serves exact ranges until it expires, and any change to
// it is refused.
@Suite(.serialized) struct HTTPDeliveryTests {
    static let jobs = "$aws/things/dev/jobs/"

    /// The device asks for its next job and returns the `afr_ota` document's first file and protocols.
    static func nextDocument(_ device: ScriptedDevice) async throws -> OTAJobDocument {
        try await device.publish(jobs + "$next/get", json: #"{"clientToken":"t"}"#)
        let answer = try JSONParser.parse(try await device.takeText(jobs + "$next/get/accepted"))
        return try OTAJobDocument(parsing: try #require(answer["execution"]?["jobDocument"]))
    }

    @Test func anHTTPUpdateCarriesAFreshSignedURLThatServesExactRangesUntilItExpires() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("dev")
        let (file, image) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 20_000)
        _ = try await service.createUpdate("web", file: file, things: ["dev"]) { $0.protocols = ["HTTP"] }

        // Stored: a placeholder. Delivered: a URL on the API port, and no stream (HTTP only).
        let stored = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-web") })
        #expect(stored.document.contains(DataURLs.placeholder))
        let document = try await Self.nextDocument(device)
        #expect(document.protocols == ["HTTP"] && document.streamName == nil)
        let entry = try #require(document.files.first)
        #expect(entry.authScheme == "aws.s3.presigned")
        let url = try #require(entry.updateDataURL)
        let apiPort = try #require(service.server.apiPort)
        #expect(url.hasPrefix("https://127.0.0.1:\(apiPort)/data/\(file.id)?thing=dev&expires="))

        let caller = try APICaller(service, token: nil)
        defer { Task { await caller.shutdown() } }
        let first = try await caller.fetch(url, range: "bytes=0-4095")
        #expect(first.status == 206 && first.body == Array(image[0..<4096]))
        #expect(first.headers.first(name: "Content-Range") == "bytes 0-4095/\(image.count)")
        // The last block as the agent asks for it (aws-ota-wire.md §8): its end is the file's last byte.
        let lastStart = (image.count - 1) / 4096 * 4096
        let last = try await caller.fetch(url, range: "bytes=\(lastStart)-\(image.count - 1)")
        #expect(last.status == 206 && last.body == Array(image[lastStart...]))
        let whole = try await caller.fetch(url)
        #expect(whole.status == 200 && whole.body == image)

        // Ranges it does not serve: 416 with the size, never a wrong body.
        for range in ["bytes=\(image.count)-", "bytes=0-1,5-6", "items=0-1", "bytes=5-2"] {
            let refused = try await caller.fetch(url, range: range)
            #expect(refused.status == 416, "\(range)")
            #expect(refused.headers.first(name: "Content-Range") == "bytes */\(image.count)")
        }

        // Altered URLs: another file, a later expiry, another thing, no signature.
        let expires = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "expires" }?.value)
        let other = try await service.uploadFirmware(version: "3.0.0", payloadSize: 20_001).0
        let altered = [
            url.replacingOccurrences(of: file.id, with: other.id),
            url.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(Int64(expires)! + 3600)"),
            url.replacingOccurrences(of: "thing=dev", with: "thing=other"),
            String(url[..<url.range(of: "&signature=")!.lowerBound]),
        ]
        for forged in altered {
            #expect(try await caller.fetch(forged, range: "bytes=0-4095").status == 403, "\(forged)")
        }

        // Expired: 403; the job document delivered again carries a new URL that works.
        service.clock.advance(by: 1801)
        #expect(try await caller.fetch(url, range: "bytes=0-4095").status == 403)
        let fresh = try #require(try await Self.nextDocument(device).files.first?.updateDataURL)
        #expect(fresh != url)
        #expect(try await caller.fetch(fresh, range: "bytes=4096-8191").body == Array(image[4096..<8192]))
        await device.close()
    }

    @Test func anUpdateForBothProtocolsListsTheStreamAndAURLAndMQTTOnlyDocumentsAreUnchanged() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let device = try await service.device("dev")
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        _ = try await service.createUpdate("both", file: file, things: ["dev"]) { $0.protocols = ["HTTP", "MQTT"] }
        let both = try await Self.nextDocument(device)
        #expect(both.protocols == ["MQTT", "HTTP"] && both.streamName != nil)
        #expect(both.files.first?.updateDataURL?.contains("/data/") == true)

        _ = try await service.createUpdate("mqtt", file: file, things: ["dev"])
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-mqtt") })
        #expect(!job.document.contains("update_data_url") && job.document.contains(#""protocols":["MQTT"]"#))
        await device.close()
    }

    @Test(arguments: [["FTP"], ["HTTP", "HTTP"], [], ["MQTT", "HTTP", "MQTT"], ["http"]])
    func protocolsOtherThanMQTTAndHTTPAreRefusedAndNothingIsStored(protocols: [String]) async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        _ = try await service.server.registry.createThing("dev", attributes: [:])
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        await #expect(throws: OTAServiceError.self) {
            _ = try await service.createUpdate("bad", file: file, things: ["dev"]) { $0.protocols = protocols }
        }
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)
    }

    @Test func anHTTPUpdateIsRefusedAtCreationWhenNoURLCouldBeIssued() async throws {
        let service = try await ServiceHarness { $0.apiPort = nil }
        defer { Task { await service.shutdown() } }
        _ = try await service.server.registry.createThing("dev", attributes: [:])
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        await #expect {
            _ = try await service.createUpdate("web", file: file, things: ["dev"]) { $0.protocols = ["MQTT", "HTTP"] }
        } throws: { error in
            "\(error)".contains("HTTPS API")
        }
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)
        // MQTT alone needs no data plane.
        _ = try await service.createUpdate("blocks", file: file, things: ["dev"])
    }

    @Test func aFileDamagedOnDiskIsNeverServedOverHTTP() async throws {
        // A cache too small to keep the file: every read goes to the disk (what a restart would also do).
        let service = try await ServiceHarness { $0.fileCacheBytes = 1024 }
        defer { Task { await service.shutdown() } }
        let device = try await service.device("dev")
        let (file, _) = try await service.uploadFirmware(version: "2.0.0", payloadSize: 5_000)
        _ = try await service.createUpdate("web", file: file, things: ["dev"]) { $0.protocols = ["HTTP"] }
        let url = try #require(try await Self.nextDocument(device).files.first?.updateDataURL)
        let local = try #require(service.server.files.store as? LocalFileStore)
        var bytes = try #require(FileManager.default.contents(atPath: local.path(of: file.id)))
        bytes[100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: local.path(of: file.id)))

        let caller = try APICaller(service, token: nil)
        defer { Task { await caller.shutdown() } }
        let answer = try await caller.fetch(url, range: "bytes=0-4095")
        #expect(answer.status == 500 && answer.body.count < 1000)
        #expect(!answer.text.contains(String(decoding: bytes[0..<16], as: UTF8.self)))
        await device.close()
    }
}
