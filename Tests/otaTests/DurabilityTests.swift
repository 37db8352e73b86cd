import Crypto
import Foundation
import MQTT
import OTAWire
import Synchronization
import TestSupport
import Testing

// SIGKILL in the middle of a rollout while devices download: after a restart on the same data directory no
// execution, file or status is lost, and the devices finish their downloads where they stopped.
@Suite(.serialized) struct DurabilityTests {
    /// A device that keeps its received blocks across connections (its flash) and remembers the last progress
    /// report the service accepted, and the last it sent (which the service may have stored without answering).
    final class DownloadingDevice: @unchecked Sendable {
        let thing: String
        let credentials: String
        let blockSize = 1024
        private let state = Mutex<
            (blocks: [[UInt8]?], accepted: String?, sent: String?, streamID: String?, size: Int)
        >(([], nil, nil, nil, 0))

        init(thing: String, credentials: String) {
            self.thing = thing
            self.credentials = credentials
        }

        var received: Int { state.withLock { $0.blocks.count { $0 != nil } } }
        var total: Int { state.withLock { $0.blocks.count } }
        var lastAcceptedProgress: String? { state.withLock { $0.accepted } }
        var lastSentProgress: String? { state.withLock { $0.sent } }
        var image: [UInt8] { state.withLock { $0.blocks.flatMap { $0 ?? [] } } }

        /// Connects as a device does: a refused or dropped attempt (a service still starting, a loaded machine) is
        /// retried a few times.
        func connect(port: Int) async throws -> ScriptedDevice {
            var attempt = 0
            while true {
                do {
                    return try await ScriptedDevice(
                        thing: thing, port: port,
                        certificatePEM: try String(contentsOfFile: "\(credentials)/\(thing).pem", encoding: .utf8),
                        keyPEM: try String(contentsOfFile: "\(credentials)/\(thing).key", encoding: .utf8),
                        caPath: "\(credentials)/ca.pem")
                } catch  where attempt < 4 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }

        /// Asks `$next/get` for the job and returns the execution as the service describes it.
        func describeNext(_ device: ScriptedDevice) async throws -> JSONObject {
            let jobs = "$aws/things/\(thing)/jobs/"
            try await device.publish(jobs + "$next/get", json: #"{"clientToken":"d:\#(thing)"}"#)
            let answer = try JSONParser.parse(try await device.take(jobs + "$next/get/accepted")[0].payload)
            let execution = try #require(answer["execution"]?.objectValue, "\(thing) has a job")
            let document = try OTAJobDocument(parsing: try #require(execution["jobDocument"]))
            let size = Int(try #require(document.files.first).fileSize)
            state.withLock { state in
                if state.blocks.isEmpty { state.blocks = Array(repeating: nil, count: (size + 1023) / 1024) }
                state.streamID = document.streamName
                state.size = size
            }
            return execution
        }

        /// Downloads missing blocks in order, reporting progress every 4 blocks; after `fastBlocks` blocks it
        /// slows down so that requests are in flight when the service dies. Ends by error when it does.
        func download(_ device: ScriptedDevice, jobID: String, fastBlocks: Int) async throws {
            let streamID = try #require(state.withLock { $0.streamID })
            let stream = "$aws/things/\(thing)/streams/\(streamID)/"
            try await device.subscribe(stream + "data/cbor", qos: .atMostOnce)
            while let index = state.withLock({ $0.blocks.firstIndex { $0 == nil } }) {
                let request = StreamRequest(
                    clientToken: "rdy", fileID: 0, blockSize: UInt64(blockSize), blockOffset: UInt64(index),
                    numberOfBlocks: 1)
                try await device.publish(stream + "get/cbor", request.cborEncoded, qos: .atMostOnce)
                let message = try await device.take(stream + "data/cbor", timeout: .seconds(20))[0]
                let block = try #require(StreamDataBlock.decodeCBOR(message.payload))
                #expect(block.blockIndex == UInt64(index))
                state.withLock { $0.blocks[index] = block.payload }
                let received = self.received
                if received % 4 == 0 {
                    let progress = #"{"receive":"\#(received)/\#(total)"}"#
                    state.withLock { $0.sent = progress }
                    try await report(device, jobID: jobID, #"{"status":"IN_PROGRESS","statusDetails":\#(progress)}"#)
                    state.withLock { $0.accepted = progress }
                }
                if received >= fastBlocks { try await Task.sleep(for: .milliseconds(150)) }
            }
        }

        func report(_ device: ScriptedDevice, jobID: String, _ json: String) async throws {
            let topic = "$aws/things/\(thing)/jobs/\(jobID)/update"
            try await device.publish(topic, json: json)
            _ = try await device.take(topic + "/accepted")
        }
    }

    @Test func aServiceKilledMidRolloutLosesNothingAndDevicesFinish() async throws {
        let service = try await ServiceProcess()
        defer { service.stop() }
        try await service.cli(["groups", "create", "fleet"])
        let things = (1...6).map { "node-\($0)" }
        let credentials = service.directory.path("credentials")
        for thing in things {
            try await service.cli(["things", "create", thing])
            try await service.cli(["groups", "add", "fleet", thing])
            try await service.cli(["things", "issue-certificate", thing, "--out", credentials])
        }
        try await service.cli(["files", "create-profile", "demo", "--generate-key"])
        let path = try ServeCLITests.firmware("5.0.0", size: 40_000, in: service.directory)
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let file = try await #require(try service.json(["files", "upload", path]) as? [String: Any])
        let fileID = try #require(file["id"] as? String)
        // Four of six now; the other two wait for the next minute of the rollout.
        try await service.cli([
            "updates", "create", "durable", "--file", fileID, "--profile", "demo", "--group", "fleet",
            "--max-per-minute", "4",
        ])
        let executions = try await #require(
            try service.json(["jobs", "executions", "AFR_OTA-durable"]) as? [[String: Any]])
        let released = executions.compactMap { $0["thingName"] as? String }.sorted()
        #expect(released.count == 4)

        // Phase 1: the released devices download about half of the image, then keep going slowly.
        let devices = released.map { DownloadingDevice(thing: $0, credentials: credentials) }
        var sessions: [ScriptedDevice] = []
        for device in devices {
            let session = try await device.connect(port: service.mqttPort)
            sessions.append(session)
            let execution = try await device.describeNext(session)
            #expect(execution["status"]?.stringValue == "QUEUED")
        }
        let half = devices[0].total / 2
        let downloads = zip(devices, sessions).map { device, session in
            Task { try? await device.download(session, jobID: "AFR_OTA-durable", fastBlocks: half) }
        }
        let deadline = Date().addingTimeInterval(60)
        while devices.contains(where: { $0.received < half || $0.lastAcceptedProgress == nil }), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(devices.allSatisfy { $0.received >= half && $0.received < $0.total }, "killed mid-download")
        service.kill()
        for download in downloads { await download.value }
        for session in sessions { await session.close() }

        // Phase 2: restart; every execution, its status and details, and the file are still there.
        try await service.restart()
        let after = try await #require(try service.json(["jobs", "show", "AFR_OTA-durable"]) as? [String: Any])
        let progress = try #require(after["progress"] as? [String: Any])
        // The other two wait for the rollout's next minute, or got it already on a slow run: never lost.
        let waiting = (progress["pending"] as? Int ?? 0) + (progress["queued"] as? Int ?? 0)
        #expect(progress["inProgress"] as? Int == 4 && waiting == 2, "\(progress)")
        await #expect(
            (try service.json(["files", "show", fileID]) as? [String: Any])?["size"] as? Int == original.count)

        for device in devices {
            let session = try await device.connect(port: service.mqttPort)
            let execution = try await device.describeNext(session)
            #expect(execution["status"]?.stringValue == "IN_PROGRESS")
            let details = execution["statusDetails"].map { String(decoding: $0.serialized, as: UTF8.self) }
            // The last accepted report, or a later one the service stored but was killed before answering.
            #expect(
                details == device.lastAcceptedProgress || details == device.lastSentProgress,
                "\(device.thing) keeps its last accepted progress")
            try await device.download(session, jobID: "AFR_OTA-durable", fastBlocks: Int.max)
            #expect(device.image == original, "\(device.thing) assembled the exact image")
            try await device.report(
                session, jobID: "AFR_OTA-durable",
                #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v5.0.0"}}"#)
            await session.close()
        }
        let final = try await #require(try service.json(["jobs", "executions", "AFR_OTA-durable"]) as? [[String: Any]])
        #expect(final.filter { $0["status"] as? String == "SUCCEEDED" }.count == 4)
        let finalJob = try await #require(try service.json(["jobs", "show", "AFR_OTA-durable"]) as? [String: Any])
        let finalProgress = try #require(finalJob["progress"] as? [String: Any])
        let stillWaiting = (finalProgress["pending"] as? Int ?? 0) + (finalProgress["queued"] as? Int ?? 0)
        #expect(stillWaiting == 2, "the two devices that never connected still wait: \(finalProgress)")
    }
}
