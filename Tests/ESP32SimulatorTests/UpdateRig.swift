import CodeSigning
import Crypto
import ESP32Formats
import ESP32Simulator
import OTAAgent
import OTAWire

/// The agent's connection in the rig: publishes and subscriptions are queued for the rig to answer.
struct QueuedConnection: OTAConnection {
    var outbox: [(topic: String, payload: [UInt8])] = []
    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8) {
        outbox.append((String(decoding: topic, as: UTF8.self), payload))
    }
    mutating func subscribe(_ filter: [UInt8], qos: UInt8) {}
    mutating func unsubscribe(_ filter: [UInt8]) {}
}

/// One device, one job, and the service's side of the protocol played in process (no sockets): it answers
/// `$next/get` from the execution it keeps, serves the blocks a request asks for, and records status updates the
/// way the service stores them. Power can be cut at any flash operation, then the device is booted again.
struct UpdateRig {
    enum Behaviour { case passes, fails }

    var chip: SimulatedChip
    let file: [UInt8]
    let signature: [UInt8]
    let behaviour: Behaviour
    var status = "QUEUED"
    var statusDetails: String?
    var boots = 0
    var clock: UInt64 = 0
    /// The device setting: keep the factory app when older images are erased.
    var keepFactoryApp = false
    static let thing = "rig"
    static let jobs = "$aws/things/rig/jobs/"

    /// The size the job document announces (the file's own size unless an attack says otherwise).
    var announcedSize: Int

    /// `signed` is what the signature covers (the file itself unless an attack serves something else).
    init(
        chip: SimulatedChip, file: [UInt8], signed: [UInt8]? = nil, signer: P256.Signing.PrivateKey = Fixtures.key,
        behaviour: Behaviour, announcedSize: Int? = nil
    ) throws {
        self.chip = chip
        self.file = file
        self.announcedSize = announcedSize ?? file.count
        signature = Array(try signer.signature(for: SHA256.hash(data: signed ?? file)).derRepresentation)
        self.behaviour = behaviour
    }

    var isFinished: Bool { status == "SUCCEEDED" || status == "FAILED" }

    /// The operator runs the job again: a new execution, QUEUED, no details.
    mutating func retry() {
        status = "QUEUED"
        statusDetails = nil
    }

    /// Boots and runs until the device resets, the job ends, or the power goes off. Returns the boot outcome
    /// (nil when the power cut hit the bootloader) and whether power was lost.
    mutating func powerOn() throws -> (boot: BootOutcome?, cut: Bool) {
        boots += 1
        let boot: BootOutcome
        do { boot = try chip.boot() } catch is PowerCut { return (nil, true) }
        let tick = clock
        let port = try ESP32Port(
            chip: chip, boot: boot, codeSigningKey: Fixtures.key.publicKey, keepFactoryApp: keepFactoryApp,
            clock: { tick })
        var agent = OTAAgent(thingName: Self.thing, platform: port, connection: QueuedConnection())
        var events = agent.start()
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            if port.poweredOff != nil {
                chip = port.chip
                return (boot, true)
            }
            if port.resetRequested {
                // What the device published before resetting still reaches the service.
                for (topic, payload) in agent.connection.outbox where topic.hasSuffix("/update") {
                    _ = answer(topic, payload, agent: &agent)
                }
                break
            }
            for event in events where event == .selfTestStarted(jobID: "AFR_OTA-rig") {
                events = behaviour == .passes ? agent.acceptImage() : agent.rejectImage()
                continue
            }
            guard !agent.connection.outbox.isEmpty else { break }
            let outbox = agent.connection.outbox
            agent.connection.outbox = []
            events = []
            for (topic, payload) in outbox where port.poweredOff == nil {
                events += answer(topic, payload, agent: &agent)
            }
        }
        chip = port.chip
        return (boot, port.poweredOff != nil)
    }

    private mutating func answer(
        _ topic: String, _ payload: [UInt8], agent: inout OTAAgent<ESP32Port, QueuedConnection>
    ) -> [AgentEvent] {
        if topic == Self.jobs + "$next/get" {
            return agent.handle(topic: topic + "/accepted", payload: jobMessage())
        }
        if topic == Self.jobs + "AFR_OTA-rig/update" {
            guard !isFinished, let update = try? JSONParser.parse(payload) else { return [] }
            status = update["status"]?.stringValue ?? status
            statusDetails = update["statusDetails"].map { String(decoding: $0.serialized, as: UTF8.self) }
            return []
        }
        if topic.hasSuffix("/get/cbor"), let request = try? StreamRequest.decodeCBOR(payload), !isFinished {
            var events: [AgentEvent] = []
            let blocks = (file.count + 4095) / 4096
            var sent = 0
            for block in 0..<blocks where sent < Int(request.numberOfBlocks ?? 1) {
                let byte = block / 8
                guard let bitmap = request.bitmap, byte < bitmap.count, bitmap[byte] & (1 << UInt8(block % 8)) != 0
                else { continue }
                let data = StreamDataBlock(
                    fileID: 0, blockIndex: UInt64(block),
                    payload: Array(file[block * 4096..<min(file.count, block * 4096 + 4096)]))
                events += agent.handle(topic: "$aws/things/rig/streams/AFR_OTA-s/data/cbor", payload: data.cborEncoded)
                sent += 1
            }
            return events
        }
        return []
    }

    private func jobMessage() -> [UInt8] {
        guard !isFinished else { return Array(#"{"clientToken":"x","timestamp":1}"#.utf8) }
        let details = statusDetails.map { #""statusDetails":\#($0),"# } ?? ""
        let document =
            #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-s","files":[{"filepath":"/","#
            + #""filesize":\#(announcedSize),"fileid":0,"certfile":"Code Verify Key","#
            + #""sig-sha256-ecdsa":"\#(Base64.encode(signature))"}]}}"#
        return Array(
            (#"{"clientToken":"x","timestamp":1,"execution":{"jobId":"AFR_OTA-rig","thingName":"rig","#
                + #""status":"\#(status)",\#(details)"queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"#
                + #""executionNumber":1,"jobDocument":\#(document)}}"#).utf8)
    }
}
