import Foundation
import OTAService
import TestSupport
import Testing

// Two real instances on one real PostgreSQL database, each with its own MQTT and HTTPS ports, as two machines
// behind a load balancer would run: what is done through one reaches the devices connected to the other at once.
@Suite(.serialized) struct ClusterTests {
    /// Runs `body` with two instances on a new database, and stops them after.
    static func withPair(_ body: (ServiceHarness, ServiceHarness) async throws -> Void) async throws {
        let database = try await PostgresTestDatabase.create()
        let a = try await ServiceHarness { $0.database = database }
        let b = try await ServiceHarness(peer: a) { $0.database = database }
        do {
            try await body(a, b)
        } catch {
            await a.shutdown()
            await b.shutdown()
            throw error
        }
        await a.shutdown()
        await b.shutdown()
    }

    /// Provisions `thing` through `registrar` and connects it to `server`, once that instance trusts it.
    static func device(_ thing: String, provisionedBy registrar: ServiceHarness, connectedTo server: ServiceHarness)
        async throws -> ScriptedDevice
    {
        _ = try await registrar.server.registry.createThing(thing)
        let issued = try await registrar.server.provisionDevice(thing)
        var device: ScriptedDevice?
        // The other instance learns of the certificate by a cluster event: at once, but not synchronously.
        _ = await eventually {
            device = try? await ScriptedDevice(
                thing: thing, port: server.port, certificatePEM: issued.certificatePEM, keyPEM: issued.privateKeyPEM,
                caPath: server.server.pki.caCertificatePath)
            return device != nil
        }
        return try #require(device, "\(thing) connects to the instance it was not provisioned through")
    }

    @Test func aJobCreatedThroughOneInstanceReachesADeviceConnectedToTheOther() async throws {
        try await Self.withPair { a, b in
            let device = try await Self.device("far", provisionedBy: a, connectedTo: b)
            let topic = "$aws/things/far/jobs/notify-next"
            try await device.subscribe(topic, qos: .atLeastOnce)

            let (file, image) = try await a.uploadFirmware(version: "2.0.0", payloadSize: 3000)
            _ = try await a.createUpdate("u1", file: file, things: ["far"])
            let notified = try await device.takeText(topic)
            #expect(
                notified.contains(#""jobId":"AFR_OTA-u1""#), "instance B sent the job instance A created: \(notified)")
            #expect(try await b.server.files.contents(of: file) == image, "the image A stored is readable through B")

            // A late announcement of that QUEUED execution, after the device started it, is not sent on: a device in
            // its self-test that got its own job again would have to refuse it.
            try await device.publish("$aws/things/far/jobs/AFR_OTA-u1/update", json: #"{"status":"IN_PROGRESS"}"#)
            _ = try await device.takeText("$aws/things/far/jobs/AFR_OTA-u1/update/accepted")
            try await b.server.engine.renotify(
                .init(thing: "far", jobID: "AFR_OTA-u1", executionNumber: 1, versionNumber: 1))
            let current = try #require(try await b.execution("AFR_OTA-u1", "far"))
            try await b.server.engine.renotify(
                .init(thing: "far", jobID: "AFR_OTA-u1", executionNumber: 1, versionNumber: current.versionNumber))
            let resent = try await device.takeText(topic)
            #expect(resent.contains(#""status":"IN_PROGRESS""#), "only the current one goes out: \(resent)")
            #expect(device.pending(topic) == 0)

            // B trusts the device's right to the stream once checked; A's cancel ends that trust on B at once.
            let job = try #require(try await a.server.store.read { try $0.job(id: "AFR_OTA-u1") })
            let stream = "$aws/things/far/streams/\(job.streamID)/"
            let block = #"{"f":0,"l":4096,"o":0,"n":1}"#
            try await device.publish(stream + "get/json", json: block)
            _ = try await device.takeText(stream + "data/json")

            try await a.server.engine.cancel(jobID: "AFR_OTA-u1", force: true)
            let cancelled = try await device.takeText(topic)
            #expect(!cancelled.contains("execution"), "the cancel reaches it too: \(cancelled)")
            try await device.publish(stream + "get/json", json: block)
            let refused = try await device.takeText(stream + "rejected/json")
            #expect(refused.contains("Unauthorized"), "B refuses the cancelled job's stream: \(refused)")
            await device.close()
        }
    }

    @Test func blocksAreServedWithoutADatabaseTransactionEach() async throws {
        try await Self.withPair { a, b in
            let device = try await Self.device("reader", provisionedBy: a, connectedTo: b)
            let notifyNext = "$aws/things/reader/jobs/notify-next"
            try await device.subscribe(notifyNext, qos: .atLeastOnce)
            let (file, _) = try await a.uploadFirmware(version: "2.0.0", payloadSize: 40_000)
            _ = try await a.createUpdate("u2", file: file, things: ["reader"])
            // B has handled A's news of the job once it sent it on: that news, read late, costs B a read and a fresh
            // check of the stream grant (CI saw both land among the 8 blocks), which is not what this test counts.
            _ = try await device.takeText(notifyNext)
            let job = try #require(try await a.server.store.read { try $0.job(id: "AFR_OTA-u2") })
            let stream = "$aws/things/reader/streams/\(job.streamID)/"
            let store = b.server.store
            try await device.publish(stream + "get/json", json: #"{"f":0,"l":4096,"o":0,"n":1}"#)
            _ = try await device.take(stream + "data/json")
            let before = try #require(store.databaseTransactions)
            for block in 1...8 {
                try await device.publish(stream + "get/json", json: #"{"f":0,"l":4096,"o":\#(block),"n":1}"#)
                _ = try await device.take(stream + "data/json")
            }
            let after = try #require(store.databaseTransactions)
            #expect(after - before <= 1, "8 blocks, \(after - before) transactions")
            await device.close()
        }
    }

    @Test func aRevocationThroughOneInstanceEndsTheConnectionOnTheOther() async throws {
        try await Self.withPair { a, b in
            let device = try await Self.device("revoked", provisionedBy: a, connectedTo: b)
            let fingerprint = try #require(
                try await a.server.store.read { try $0.certificates(of: "revoked") }.first?.fingerprint)
            _ = try await a.server.registry.revoke(fingerprint: fingerprint)
            #expect(await eventually { !device.client.isConnected }, "B closed the revoked device's connection")
            await #expect(throws: (any Error).self, "and B refuses it from now on") {
                _ = try await ScriptedDevice(
                    thing: "revoked", port: b.port, certificatePEM: device.certificatePEM, keyPEM: device.keyPEM,
                    caPath: b.server.pki.caCertificatePath)
            }
        }
    }

    @Test func aDeviceThatReconnectsToTheOtherInstanceLeavesNoConnectionBehind() async throws {
        try await Self.withPair { a, b in
            let first = try await Self.device("mover", provisionedBy: a, connectedTo: a)
            // A half-open link: the device gave up on A without A noticing, and reaches B.
            let second = try await ScriptedDevice(
                thing: "mover", port: b.port, certificatePEM: first.certificatePEM, keyPEM: first.keyPEM,
                caPath: b.server.pki.caCertificatePath)
            #expect(await eventually { !a.server.mqtt.isConnected(clientID: "mover") }, "A closed the older connection")
            #expect(b.server.mqtt.isConnected(clientID: "mover"))
            #expect(second.client.isConnected)
            // And straight back to A: the late news of the connection to B must not close the newest one.
            let third = try await ScriptedDevice(
                thing: "mover", port: a.port, certificatePEM: first.certificatePEM, keyPEM: first.keyPEM,
                caPath: a.server.pki.caCertificatePath)
            #expect(await eventually { !b.server.mqtt.isConnected(clientID: "mover") }, "B closed its connection")
            try await Task.sleep(for: .milliseconds(500))
            #expect(third.client.isConnected && a.server.mqtt.isConnected(clientID: "mover"), "the newest one stays")
            await third.close()
        }
    }
}
