import Crypto
import Foundation
import OTAService
import OTAWire
import TestSupport
import Testing

// Management-side bad inputs: each is refused with a typed error and nothing is stored.
@Suite(.serialized) struct UpdateBadInputTests {
    @Test func aNonImageUploadedAsAnAppIsRefusedAndNotStored() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let (_, image) = try await service.uploadFirmware(version: "1.0.0", payloadSize: 2000)
        var corrupted = image
        corrupted[100] ^= 0xFF  // the image's SHA-256 no longer matches
        for bytes in [Array("just text, no image".utf8), corrupted, Array(image.prefix(300))] {
            await #expect(throws: OTAServiceError.self) {
                try await service.server.updates.upload(bytes, name: "bad.bin", kind: .app)
            }
        }
        #expect(try await service.server.store.read { try $0.files() }.count == 1)
        // The same bytes are fine as a data file (a filesystem image is not an app).
        let data = try await service.server.updates.upload(Array("just text".utf8), name: "cfg.bin", kind: .data)
        #expect(data.kind == .data && data.version == nil)
    }

    @Test func aCustomSignatureThatDoesNotVerifyIsRefusedAndNoJobIsCreated() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        _ = try await service.server.registry.createThing("d1")
        let (file, image) = try await service.uploadFirmware(version: "1.0.0", payloadSize: 2000)
        let stranger = P256.Signing.PrivateKey()
        let foreign = try stranger.signature(for: SHA256.hash(data: image)).derRepresentation.base64EncodedString()
        let mine = try service.signingKey.signature(for: SHA256.hash(data: image)).derRepresentation
        var tampered = Array(mine)
        tampered[tampered.count - 1] ^= 0x01
        for signature in [foreign, Data(tampered).base64EncodedString(), "not base64!"] {
            await #expect(throws: OTAServiceError.self) {
                try await service.createUpdate("bad", file: file, things: ["d1"]) { $0.signature = signature }
            }
        }
        #expect(try await service.server.store.read { try $0.jobs() }.isEmpty)
        #expect(try await service.execution("AFR_OTA-bad", "d1") == nil)

        // The right signature, made by the user with the profile's key, is accepted as is.
        let good = mine.base64EncodedString()
        let update = try await service.createUpdate("good", file: file, things: ["d1"]) { $0.signature = good }
        #expect(update.signature == good)
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-good") })
        #expect(job.document.contains(#""sig-sha256-ecdsa":"\#(good)""#))
    }

    @Test func invalidUpdateRequestsAreRefused() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        _ = try await service.server.registry.createThing("d1")
        let (file, _) = try await service.uploadFirmware(version: "1.0.0", payloadSize: 2000)
        let cases: [(String, (inout CreateUpdateRequest) -> Void)] = [
            ("no targets", { $0.things = [] }),
            ("unknown thing", { $0.things = ["ghost"] }),
            ("unknown group", { $0.groups = ["ghosts"] }),
            ("bad id", { $0.id = "has space" }),
            ("unknown profile", { $0.signingProfile = "nope" }),
            ("unknown file", { $0.fileID = String(repeating: "0", count: 64) }),
            ("file type", { $0.fileType = 300 }),
        ]
        for (label, configure) in cases {
            await #expect(throws: OTAServiceError.self, "\(label)") {
                try await service.createUpdate("u", file: file, things: ["d1"], configure: configure)
            }
        }
        #expect(try await service.server.store.read { try $0.updates() }.isEmpty)
        _ = try await service.createUpdate("u", file: file, things: ["d1"])
        await #expect(throws: OTAServiceError.self, "a second update with the same id") {
            try await service.createUpdate("u", file: file, things: ["d1"])
        }
    }
}
