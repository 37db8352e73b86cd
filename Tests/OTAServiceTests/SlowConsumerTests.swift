import Foundation
import MQTT
import NIOSSL
import OTAWire
import Synchronization
import TestSupport
import Testing

@testable import OTAService

// A device that asks for blocks and never reads its socket must not make the service hold its answers without
// bound: reads from it pause at the write buffer's high-water mark (and its stream requests are paced); should
// answers still pile up past the limit, it is disconnected — while another device still gets its answers.
@Suite(.serialized) struct SlowConsumerTests {
    @Test(.timeLimit(.minutes(2)))
    func aDeviceThatDoesNotReadIsReadNoMoreAndOthersAreServed() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let hog = try await service.device("hog")
        let calm = try await service.device("calm")
        let (file, _) = try await service.uploadFirmware(version: "3.0.0", payloadSize: 400_000)
        _ = try await service.createUpdate("big", file: file, things: ["hog", "calm"])
        let job = try #require(try await service.server.store.read { try $0.job(id: "AFR_OTA-big") })
        await hog.close()

        let tls = MQTTClientConfiguration.mutualTLS(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(hog.certificatePEM.utf8)),
            privateKey: try NIOSSLPrivateKey(bytes: Array(hog.keyPEM.utf8), format: .pem),
            trustedServerCAs: try NIOSSLCertificate.fromPEMFile(service.server.pki.caCertificatePath))
        var noHostname = tls
        noHostname.certificateVerification = .noHostnameVerification
        let raw = try await RawConnection(port: service.port, tls: noHostname)
        let stream = "$aws/things/hog/streams/\(job.streamID)/"
        try await raw.send(
            MQTTPacket.connect(ConnectPacket(clientID: "hog", cleanSession: true, keepAlive: 600)).encoded
                + MQTTPacket.subscribe(
                    packetID: 1, subscriptions: [Subscription(filter: stream + "data/cbor", qos: .atMostOnce)]
                ).encoded)
        #expect(await eventually { raw.packets.contains { if case .suback = $0 { true } else { false } } })
        try await raw.stopReading()
        // 128 KiB of blocks per request, a thousand requests per write: 800 writes ask for 100 GiB of answers.
        let request = StreamRequest(
            clientToken: "x", fileID: 0, blockSize: 4096, blockOffset: 0, bitmap: nil, numberOfBlocks: 32)
        let publish = MQTTPacket.publish(PublishPacket(topic: stream + "get/cbor", payload: request.cborEncoded))
        let batch = Array([[UInt8]](repeating: publish.encoded, count: 1000).joined())
        let written = Mutex(0)
        let sender = Task {
            for _ in 0..<800 {
                guard (try? await raw.send(batch)) != nil else { return }
                written.withLock { $0 += 1 }
            }
        }
        defer { sender.cancel() }
        // The service stops reading a device that does not take its answers: TCP then holds the device's writes
        // back (kernel buffers hold ~10 MB of the 40 MB). Read all, as before, they took well under a second.
        try await Task.sleep(for: .seconds(10))
        let writes = written.withLock { $0 }
        #expect(writes < 800, "the service kept reading a device that does not read (\(writes) of 800 writes)")

        // Another device is answered as usual.
        try await calm.publish("$aws/things/calm/jobs/$next/get", json: #"{"clientToken":"c"}"#)
        #expect(try await calm.takeText("$aws/things/calm/jobs/$next/get/accepted").contains("AFR_OTA-big"))
        await calm.close()
        await raw.close()
    }

    @Test func thePacerAllowsABurstThenTheSustainedRate() {
        let start = ContinuousClock.now
        var pacer = TokenBucket(rate: 50, burst: 100, now: start)
        let burst = (0..<100).map { _ in pacer.take(now: start) }
        #expect(burst.allSatisfy { $0 == .zero })
        #expect(pacer.take(now: start) == .milliseconds(20), "one request a 50th of a second past the burst")
        // A second later 50 more are due (the bucket had gone one below empty).
        let later = start + .seconds(1)
        let refilled = (0..<49).map { _ in pacer.take(now: later) }
        #expect(refilled.allSatisfy { $0 == .zero })
        #expect(pacer.take(now: later) > .zero)
    }

    /// The gateway answers a stream request on the event loop only when a token is there; otherwise the request
    /// queues and nothing is taken (the queue's task charges it then).
    @Test func takingIfAvailableNeverGoesIntoDebt() {
        let start = ContinuousClock.now
        var pacer = TokenBucket(rate: 10, burst: 3, now: start)
        let burst = (0..<3).map { _ in pacer.takeIfAvailable(now: start) }
        #expect(burst == [true, true, true])
        let empty = pacer.takeIfAvailable(now: start)
        let half = pacer.takeIfAvailable(now: start + .milliseconds(50))
        let one = pacer.takeIfAvailable(now: start + .milliseconds(100))
        #expect(!empty)
        #expect(!half, "half a token is not one")
        #expect(one)
        // The refusals took nothing: a tenth of a second later exactly one more is there.
        let due = pacer.take(now: start + .milliseconds(200))
        let past = pacer.take(now: start + .milliseconds(200))
        #expect(due == .zero)
        #expect(past > .zero)
    }
}
