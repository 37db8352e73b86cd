import CodeSigning
import Crypto
import ESP32Simulator
import OTAAgent
import OTAService
import OTAWire
import S3
import TestSupport
import Testing

// Simulated ESP32s take updates from the real service over its HTTPS data plane: the job document's signed URL,
// 4 KiB ranges verified against the device's CA, then the same signature check, activation and self-test as over
// MQTT. A device uses its preferred protocol when the update offers both, and HTTP when that is all it offers.
@Suite(.serialized) struct HTTPUpdateTests {
    @Test(arguments: [OTADataProtocol.http, .mqtt])
    func aDeviceTakesAnUpdateOfferedOverBothProtocolsOverItsPreferredOne(preferred: OTADataProtocol) async throws {
        let setup = try await DeviceUpdateTests.Setup(api: true)
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("dev")
        device.dataProtocol = preferred
        try await setup.update(
            "both", thing: "dev", image: try setup.image("1.1.0", sign: false), protocols: ["MQTT", "HTTP"])
        try await device.run(timeout: .seconds(60)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-both") }
        #expect(device.status.runningVersion == "1.1.0" && device.status.dataProtocol == preferred)
        let execution = try #require(try await setup.finishedExecution("both", "dev"))
        #expect(execution.status == .succeeded)
    }

    @Test func anHTTPOnlyUpdateReachesAnMQTTPreferringDeviceAndABadSignatureIsStillRefused() async throws {
        let setup = try await DeviceUpdateTests.Setup(api: true)
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("dev")
        try await setup.update("web", thing: "dev", image: try setup.image("1.1.0", sign: false), protocols: ["HTTP"])
        try await device.run(timeout: .seconds(60)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-web") }
        #expect(device.status.runningVersion == "1.1.0" && device.status.dataProtocol == .http)

        // An image signed by a key the device does not trust: fetched over HTTPS all the same, refused at close.
        let rogueKey = P256.Signing.PrivateKey()
        let rogueCertificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: rogueKey, commonName: "not the device's key", validity: Validity(days: 1))
        try KeyFiles.writePrivateKey(rogueKey, to: setup.directory.path("rogue.key"))
        _ = try await setup.server.updates.createSigningProfile(
            name: "rogue", certificatePEM: try CertificateCoding.encode(rogueCertificate),
            keyPath: setup.directory.path("rogue.key"), certificatePathOnDevice: nil)
        let file = try await setup.server.updates.upload(
            try setup.image("1.2.0", sign: false), name: "rogue.bin", kind: .app)
        _ = try await setup.server.updates.create(
            CreateUpdateRequest(
                id: "rogue", fileID: file.id, signingProfile: "rogue", things: ["dev"], protocols: ["HTTP"]))
        try await device.run(timeout: .seconds(60)) { status in
            if case .failed(let job, _) = status.lastEvent { return job == "AFR_OTA-rogue" }
            return false
        }
        let execution = try #require(try await setup.finishedExecution("rogue", "dev"))
        #expect(execution.status == .failed && execution.statusDetails == #"{"reason":"0x000000e3: 0x00000000"}"#)
        #expect(device.status.runningVersion == "1.1.0")
    }

    @Test func anUpdateWhoseFileIsInABucketReachesTheDeviceByAPresignedURL() async throws {
        // moto without request authentication: with it on, moto answers presigned URLs 500 (S3FileStoreTests
        // covers signed requests with authentication).
        let moto = try await MotoServer.start(authenticating: false)
        defer { moto.stop() }
        #expect(try await moto.aws(["s3", "mb", "s3://fleet-firmware"]).status == 0)
        let store = S3FileStore(
            client: S3Client(
                endpoint: try S3Endpoint(url: moto.endpointURL, region: "us-east-1", pathStyle: true),
                credentials: S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
            location: try S3Location(bucket: "fleet-firmware", prefix: "releases/"))
        let setup = try await DeviceUpdateTests.Setup(api: true, fileStore: store)
        defer { Task { await setup.server.stop() } }
        let device = try await setup.device("dev")
        device.dataProtocol = .http
        try await setup.update("s3", thing: "dev", image: try setup.image("1.1.0", sign: false), protocols: ["HTTP"])
        let message = try #require(
            try await setup.server.engine.describeNext(thing: "dev")?.jobDocument.map {
                try OTAJobDocument(parsing: $0)
            })
        let url = try #require(message.files.first?.updateDataURL)
        #expect(url.hasPrefix(moto.endpointURL + "/fleet-firmware/releases/") && url.contains("X-Amz-Signature="))
        try await device.run(timeout: .seconds(60)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-s3") }
        #expect(device.status.runningVersion == "1.1.0" && device.status.dataProtocol == .http)
        // The bytes went from the bucket to the device: moto logged the device's ranged GETs of the object.
        #expect(moto.output.contains("GET /fleet-firmware/releases/"))
    }
}
