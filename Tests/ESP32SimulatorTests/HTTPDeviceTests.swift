import CodeSigning
import Crypto
import ESP32Simulator
import MQTT
import OTAAgent
import OTAWire
import Synchronization
import TestSupport
import Testing

/// The Jobs side of the service, played over a real MQTT server with mutual TLS: it answers `$next/get` with one
/// job whose document offers MQTT and HTTP and carries a fresh data URL at every delivery (token t1, t2, …, as AWS
/// presigns anew each time), records the status updates, and serves no stream: a device that tried MQTT blocks
/// would never finish.
final class FakeJobsService: MQTTRequestHandler {
    struct State {
        var status = "QUEUED"
        var statusDetails: String?
        var deliveries = 0
        var streamRequests = 0
    }

    static let jobs = "$aws/things/rig/jobs/"
    let state = Mutex(State())
    let file: [UInt8]
    let signature: [UInt8]
    let url: @Sendable (_ token: String) -> String

    init(file: [UInt8], signer: P256.Signing.PrivateKey, url: @escaping @Sendable (String) -> String) throws {
        self.file = file
        signature = Array(try signer.signature(for: SHA256.hash(data: file)).derRepresentation)
        self.url = url
    }

    func handle(_ publish: PublishPacket, from session: MQTTSessionContext) -> Bool {
        if publish.topic == Self.jobs + "$next/get" {
            let reply = state.withLock { state in
                state.deliveries += 1
                return message(state, token: "t\(state.deliveries)")
            }
            session.deliver(topic: publish.topic + "/accepted", payload: reply)
            return true
        }
        if publish.topic == Self.jobs + "AFR_OTA-rig/update" {
            guard let update = try? JSONParser.parse(publish.payload) else { return true }
            state.withLock { state in
                guard state.status != "SUCCEEDED", state.status != "FAILED" else { return }
                state.status = update["status"]?.stringValue ?? state.status
                state.statusDetails = update["statusDetails"].map { String(decoding: $0.serialized, as: UTF8.self) }
            }
            return true
        }
        if publish.topic.contains("/streams/") {
            state.withLock { $0.streamRequests += 1 }
            return true
        }
        return false
    }

    private func message(_ state: State, token: String) -> [UInt8] {
        guard state.status != "SUCCEEDED", state.status != "FAILED" else {
            return Array(#"{"clientToken":"x","timestamp":1}"#.utf8)
        }
        let details = state.statusDetails.map { #""statusDetails":\#($0),"# } ?? ""
        let document =
            #"{"afr_ota":{"protocols":["MQTT","HTTP"],"streamname":"AFR_OTA-s","files":[{"filepath":"/","#
            + #""filesize":\#(file.count),"fileid":0,"certfile":"Code Verify Key","#
            + #""update_data_url":"\#(url(token))","auth_scheme":"aws.s3.presigned","#
            + #""sig-sha256-ecdsa":"\#(Base64.encode(signature))"}]}}"#
        return Array(
            (#"{"clientToken":"x","timestamp":1,"execution":{"jobId":"AFR_OTA-rig","thingName":"rig","#
                + #""status":"\#(state.status)",\#(details)"queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"#
                + #""executionNumber":1,"jobDocument":\#(document)}}"#).utf8)
    }
}

// A simulated ESP32 that prefers HTTP, run for real: MQTT with mutual TLS to the fake Jobs service, the file over
// HTTPS from a range server whose certificate comes from the same CA, the URL expiring mid-download.
@Suite struct HTTPDeviceTests {
    @Test func aDevicePreferringHTTPDownloadsOverHTTPSSurvivesAnExpiredURLAndConfirms() async throws {
        let pki = try HTTPTestPKI()
        let directory = try TemporaryDirectory("http-device")
        let mqttIdentity = try pki.server()
        let tls = try MQTTServerConfiguration.TLSIdentity(
            certificateChainPEM: try directory.write("server.pem", text: mqttIdentity.certificatePEM),
            privateKeyPEM: try directory.write("server.key", text: mqttIdentity.keyPEM),
            clientCAPEM: try directory.write("ca.pem", text: pki.caPEM))

        let file = try Fixtures.updateFile("1.1.0")
        let httpIdentity = try pki.server()
        let data = try await RangeFileServer(
            file: file, certificatePEM: httpIdentity.certificatePEM, keyPEM: httpIdentity.keyPEM)
        data.expire(token: "t1", afterRequests: 10)
        let jobs = try FakeJobsService(file: file, signer: Fixtures.key) { data.url(scheme: "https", token: $0) }
        let broker = MQTTServer(
            configuration: MQTTServerConfiguration(
                host: "127.0.0.1", port: 0, tls: tls, admission: .underTestLoad),
            requestHandler: jobs)
        let port = try await broker.start()

        let thing = try pki.device("rig")
        let device = SimulatedDevice(
            chip: try Fixtures.chip(),
            credentials: DeviceCredentials(
                thing: "rig", certificatePEM: thing.certificatePEM, privateKeyPEM: thing.keyPEM, caPEM: pki.caPEM),
            host: "127.0.0.1", port: port, codeSigningKey: Fixtures.key.publicKey)
        device.dataProtocol = .http
        do {
            try await device.run(timeout: .seconds(300)) { $0.lastEvent == .succeeded(jobID: "AFR_OTA-rig") }
        } catch {
            await broker.stop()
            await data.stop()
            throw error
        }
        await broker.stop()
        await data.stop()

        #expect(device.status.runningVersion == "1.1.0" && device.status.boots == 2)
        #expect(device.status.dataProtocol == .http)
        let final = jobs.state.withLock { $0 }
        #expect(final.status == "SUCCEEDED" && final.streamRequests == 0, "no MQTT block was asked for")

        // The refused URL was replaced by a fresh one and the download went on from the block it was refused at.
        let requests = data.requests
        let lastOld = try #require(requests.last { $0.uri.hasSuffix("token=t1") })
        let firstNew = try #require(requests.first { $0.uri.hasSuffix("token=t2") })
        #expect(firstNew.range == lastOld.range && firstNew.range != "bytes=0-4095")
        let blocks = (file.count + 4095) / 4096
        let asked = Set(requests.compactMap(\.range))
        #expect(asked.count == blocks, "every block asked for, none outside the file")
    }
}
