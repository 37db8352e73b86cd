import OTAAgent
import OTAWire
import Testing

@Suite struct AgentTests {
    typealias Agent = OTAAgent<RecordingPlatform, RecordingConnection>
    static let jobs = "$aws/things/dev/jobs/"
    static let data = "$aws/things/dev/streams/AFR_OTA-s1/data/cbor"
    static let file = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }

    static func agent(version: String = "1.2.3") -> Agent {
        Agent(thingName: "dev", platform: RecordingPlatform(version: version), connection: RecordingConnection())
    }

    /// 1.2.4 booted with its image in `state`, and started (it asked for its job).
    static func booted(_ state: PlatformImageState) -> Agent {
        var agent = Self.agent(version: "1.2.4")
        agent.platform.state = state
        _ = agent.start()
        return agent
    }

    /// 1.2.4 booted unconfirmed after an update from 1.2.3, started, and handed its job with the "ready" report:
    /// in its self-test.
    static func selfTesting() -> Agent {
        var agent = booted(.pendingCommit)
        _ = offer(&agent, #"{"self_test":"ready","updatedBy":"0x01020003"}"#)
        return agent
    }

    /// Hands the agent job AFR_OTA-u1 (10,000 bytes) with these statusDetails, as the answer to `$next/get` or
    /// on notify-next.
    static func offer(_ agent: inout Agent, _ statusDetails: String, on topic: String = "$next/get/accepted")
        -> [AgentEvent]
    {
        agent.handle(topic: Self.jobs + topic, payload: Service.job(size: 10_000, statusDetails: statusDetails))
    }

    /// Feeds every block the agent asks for, in the order asked, until it stops asking.
    static func serve(_ agent: inout Agent, file: [UInt8] = file, skip: Set<Int> = []) -> [AgentEvent] {
        var events: [AgentEvent] = []
        for index in 0..<(file.count + 4095) / 4096 where !skip.contains(index) {
            events += agent.handle(topic: data, payload: Service.block(index, of: file))
        }
        return events
    }

    @Test func theDownloadSpeaksGenerationAExactlyAndActivates() throws {
        var agent = Self.agent()
        _ = agent.start()
        #expect(agent.connection.subscriptions == [Self.jobs + "notify-next"])
        #expect(agent.connection.payloads(on: Self.jobs + "$next/get") == [#"{"clientToken":"1:dev"}"#])

        let started = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: Self.file.count))
        #expect(started == [.downloadStarted(jobID: "AFR_OTA-u1", fileSize: 10_000, resumedBlocks: 0)])
        #expect(agent.connection.subscriptions.contains(Self.data))
        let request = try #require(agent.connection.published.last)
        #expect(request.topic == "$aws/things/dev/streams/AFR_OTA-s1/get/cbor" && request.qos == 0)
        // c="rdy", f=0, l=4096, o=0, b=h'07' (three blocks needed), n=8 — the gen A request shape.
        let expected: [UInt8] = [
            0xA6, 0x61, 0x63, 0x63, 0x72, 0x64, 0x79, 0x61, 0x66, 0x00, 0x61, 0x6C, 0x19, 0x10, 0x00, 0x61, 0x6F, 0x00,
            0x61, 0x62, 0x41, 0x07, 0x61, 0x6E, 0x08,
        ]
        #expect(request.bytes == expected)

        let events = Self.serve(&agent)
        #expect(events == [.activated(jobID: "AFR_OTA-u1")])
        #expect(agent.platform.file == Self.file)
        #expect(agent.platform.signatureSeen == [0x30, 0x44])
        let updates = agent.connection.payloads(on: Self.jobs + "AFR_OTA-u1/update")
        #expect(
            updates == [
                #"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/3"}}"#,
                #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01020003"}}"#,
            ])
        #expect(agent.platform.calls == ["create 10000", "close", "activate"])
        #expect(agent.platform.stored == nil, "a finished download leaves no record")
    }

    @Test func afterTheRebootTheVersionRuleDecides() {
        // Newer image running, job in self-test by the old version: test, then accept → SUCCEEDED.
        var agent = Self.agent(version: "1.2.4")
        agent.platform.state = .pendingCommit
        _ = agent.start()
        let details = #"{"self_test":"ready","updatedBy":"0x01020003"}"#
        let events = agent.handle(
            topic: Self.jobs + "$next/get/accepted", payload: Service.job(size: 10_000, statusDetails: details))
        #expect(events == [.selfTestStarted(jobID: "AFR_OTA-u1")])
        #expect(agent.acceptImage() == [.succeeded(jobID: "AFR_OTA-u1")])
        #expect(
            agent.connection.payloads(on: Self.jobs + "AFR_OTA-u1/update") == [
                #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01020004"}}"#,
                #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.2.4","updatedBy":"  v1.2.3"}}"#,
            ])
        #expect(agent.platform.calls == ["state testing", "state accepted"])

        // Same version running (the new image never booted): rejected 0x10. Older running: rejected 0x0f.
        for (running, code) in [("1.2.3", "0x00000010"), ("1.2.2", "0x0000000f")] {
            var other = Self.agent(version: running)
            _ = other.start()
            let result = other.handle(
                topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000, statusDetails: details))
            #expect(result == [.failed(jobID: "AFR_OTA-u1", reason: ByteString("rejected: \(code)"))])
        }
    }

    @Test func anImageConfirmedOnAnEarlierBootReportsTheSUCCEEDEDThatThePowerCutLost() {
        // The port confirmed 1.2.4 and was erasing the older images when the power went off: the job still says
        // self-test; the image is VALID. The agent reports SUCCEEDED without a second self-test or a reset.
        var agent = Self.booted(.valid)
        let events = Self.offer(&agent, #"{"self_test":"active","updatedBy":"0x01020003"}"#)
        #expect(events == [.succeeded(jobID: "AFR_OTA-u1")])
        #expect(
            agent.connection.payloads(on: Self.jobs + "AFR_OTA-u1/update") == [
                #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.2.4","updatedBy":"  v1.2.3"}}"#
            ])
        #expect(agent.platform.calls.isEmpty, "no state change, no reset")

        // Booted without a record that says VALID (a fallback boot of an unconfirmed image): no SUCCEEDED.
        var unsure = Self.booted(.unknown)
        let refused = Self.offer(&unsure, #"{"self_test":"active","updatedBy":"0x01020003"}"#)
        #expect(refused == [.failed(jobID: "AFR_OTA-u1", reason: "rejected: 0x00000011")])
    }

    @Test func aPassedSelfTestWhoseSUCCEEDEDWasLostReportsItAgain() {
        // The self-test passed and confirmed the image; the connection dropped with SUCCEEDED still queued. After
        // the reconnect the job carries the agent's own "active" report, whose updatedBy is the running version.
        var agent = Self.selfTesting()
        #expect(agent.acceptImage() == [.succeeded(jobID: "AFR_OTA-u1")])
        agent.platform.state = .valid  // what the port's confirmation leaves (the recording platform only records)
        agent.connection.published = []
        _ = agent.reconnected()
        let active = #"{"self_test":"active","updatedBy":"0x01020004"}"#
        let events = Self.offer(&agent, active)
        #expect(events == [.succeeded(jobID: "AFR_OTA-u1")])
        #expect(
            agent.connection.payloads(on: Self.jobs + "AFR_OTA-u1/update") == [
                #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.2.4","updatedBy":"  v1.2.4"}}"#
            ])

        // The same report seen by an image that is not VALID (never confirmed), or a "ready" report naming the
        // running version (the device rolled back to the version that started the update), still fails.
        for (state, details) in [
            (PlatformImageState.unknown, active), (.valid, #"{"self_test":"ready","updatedBy":"0x01020004"}"#),
        ] {
            var other = Self.booted(state)
            let result = Self.offer(&other, details, on: "notify-next")
            #expect(result == [.failed(jobID: "AFR_OTA-u1", reason: "rejected: 0x00000010")])
        }
    }

    @Test func aFailedSelfTestRejectsAndResets() {
        var agent = Self.selfTesting()
        #expect(agent.rejectImage() == [.failed(jobID: "AFR_OTA-u1", reason: "rejected: 0x00000000"), .reset])
        #expect(agent.platform.calls.suffix(2) == ["state rejected", "reset"])
    }

    @Test func theJobItIsSelfTestingDeliveredAgainChangesNothing() {
        var agent = Self.selfTesting()
        let calls = agent.platform.calls
        // A slow service answered a repeated $next/get after the agent's own "active" report: that report's
        // updatedBy is the running version now. The self-test goes on; nothing is reported or reset.
        let again = Self.offer(&agent, #"{"self_test":"active","updatedBy":"0x01020004"}"#)
        #expect(again.isEmpty)
        #expect(agent.platform.calls == calls)
        #expect(agent.rejectImage() == [.failed(jobID: "AFR_OTA-u1", reason: "rejected: 0x00000000"), .reset])
    }

    @Test func anUnconfirmedImageShownAJobThatIsNotItsSelfTestAsksAgainInsteadOfResetting() {
        // The new boot's $next/get was answered before the service recorded the "ready" report the previous boot
        // sent just before its reset: the job still says which blocks arrived.
        var agent = Self.booted(.pendingCommit)
        let stale = Self.offer(&agent, #"{"receive":"3/3"}"#)
        #expect(stale.isEmpty)
        #expect(agent.platform.calls.isEmpty, "no reset, no download")
        let asked = agent.connection.payloads(on: Self.jobs + "$next/get").count
        agent.platform.nowMilliseconds += AgentLimits.selfTestJobRetryMilliseconds - 1
        #expect(agent.tick().isEmpty)
        #expect(agent.connection.payloads(on: Self.jobs + "$next/get").count == asked)
        agent.platform.nowMilliseconds += 1
        #expect(agent.tick().isEmpty)
        #expect(agent.connection.payloads(on: Self.jobs + "$next/get").count == asked + 1, "asked again")
        let events = Self.offer(&agent, #"{"self_test":"ready","updatedBy":"0x01020003"}"#)
        #expect(events == [.selfTestStarted(jobID: "AFR_OTA-u1")])

        // The self-test job never comes: the self-test timer resets the device (the bootloader rolls back).
        var waiting = Self.booted(.pendingCommit)
        _ = Self.offer(&waiting, #"{"receive":"3/3"}"#, on: "notify-next")
        waiting.platform.nowMilliseconds += AgentLimits.selfTestWaitMilliseconds
        #expect(waiting.tick() == [.reset])
    }

    @Test func aJobThatReplacesTheOneInItsSelfTestResetsTheDevice() {
        // The operator cancelled the update being self-tested and queued another: the unconfirmed image must not
        // stay (and must never be committed): reset, and the bootloader rolls back.
        var agent = Self.selfTesting()
        let events = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job("AFR_OTA-u2", size: 10_000))
        #expect(events == [.reset])
        #expect(agent.platform.calls.last == "reset")
    }

    @Test func anUnconfirmedImageWithoutItsJobResetsWhenTheSelfTestTimerExpires() {
        var agent = Self.booted(.pendingCommit)
        agent.platform.nowMilliseconds += 15_999
        #expect(agent.tick().isEmpty)
        agent.platform.nowMilliseconds += 1
        #expect(agent.tick() == [.reset])
    }

    @Test func aDownloadResumesAfterARebootFromThePersistedBitmap() {
        var agent = Self.agent()
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 40_000))
        let big = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        for index in 0..<9 { _ = agent.handle(topic: Self.data, payload: Service.block(index, of: big)) }
        let stored = agent.platform.stored
        #expect(stored.flatMap(DownloadRecord.init(decoding:))?.bitmap.receivedCount == 8, "saved every 8 blocks")

        // Power loss: a new agent on the same platform (flash and store survive), same job again.
        var platform = agent.platform
        platform.calls = []
        var rebooted = OTAAgent(thingName: "dev", platform: platform, connection: RecordingConnection())
        _ = rebooted.start()
        let events = rebooted.handle(topic: Self.jobs + "$next/get/accepted", payload: Service.job(size: 40_000))
        #expect(events == [.downloadStarted(jobID: "AFR_OTA-u1", fileSize: 40_000, resumedBlocks: 8)])
        #expect(rebooted.platform.calls == ["reopen 40000"], "no erase: the blocks on flash are kept")
        var served: [AgentEvent] = []
        for index in 8..<10 { served += rebooted.handle(topic: Self.data, payload: Service.block(index, of: big)) }
        #expect(served == [.activated(jobID: "AFR_OTA-u1")])
        #expect(rebooted.platform.file == big)
    }

    @Test func malformedOrOversizedBlocksFailTheJobAndDropTheFile() {
        for bad: [UInt8] in [
            [0xA0],  // an empty map
            StreamDataBlock(fileID: 0, blockIndex: 9, payload: Array(repeating: 0, count: 4096)).cborEncoded,
            StreamDataBlock(fileID: 0, blockIndex: 2, payload: Array(repeating: 0, count: 4096)).cborEncoded,  // > file
            StreamDataBlock(fileID: 0, blockIndex: 0, payload: Array(repeating: 0, count: 100)).cborEncoded,
        ] {
            var agent = Self.agent()
            _ = agent.start()
            _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000))
            let events = agent.handle(topic: Self.data, payload: bad)
            #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "0x000000e0: 0x00000000")])
            #expect(agent.platform.calls.contains("abort") && agent.platform.stored == nil)
            #expect(!agent.connection.subscriptions.contains(Self.data))
        }
    }

    @Test func aSignatureThatDoesNotVerifyFailsWithThePALCode() {
        var agent = Self.agent()
        agent.platform.closeResult = .signatureCheckFailed
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000))
        let events = Self.serve(&agent)
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "0x000000e3: 0x00000000")])
        #expect(!agent.platform.calls.contains("activate"))
    }

    @Test func lostBlocksAreAskedForAgainAndTheDownloadGivesUpAfter32Requests() {
        var agent = Self.agent()
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000))
        _ = agent.handle(topic: Self.data, payload: Service.block(0, of: Self.file))
        let requests = { (agent: Agent) in agent.connection.published.filter { $0.topic.hasSuffix("/get/cbor") }.count }
        #expect(requests(agent) == 1)
        agent.platform.nowMilliseconds += 10_000
        _ = agent.tick()
        #expect(requests(agent) == 2, "the timer re-asks")
        var events: [AgentEvent] = []
        for _ in 0..<40 where events.isEmpty {
            agent.platform.nowMilliseconds += 10_000
            events = agent.tick()
        }
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "aborted: 0x00000000")])
        #expect(requests(agent) == 1 + 32, "the first request, then 32 without an accepted block")
    }

    @Test func aDataFileSucceedsWithoutRebootAndOversizedJobsAreIgnored() {
        var agent = Self.agent()
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000, fileType: 2))
        #expect(Self.serve(&agent) == [.succeeded(jobID: "AFR_OTA-u1")])
        #expect(
            agent.connection.payloads(on: Self.jobs + "AFR_OTA-u1/update").last
                == #"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v0.0.2","updatedBy":"  v0.0.0"}}"#)

        var other = Self.agent()
        _ = other.start()
        #expect(other.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 4 * 1024 * 1024 + 1)).isEmpty)
        #expect(other.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 0)).isEmpty)
    }

    @Test func aLostAnswerToTheJobRequestIsAskedForAgain() {
        var agent = Self.agent()
        _ = agent.start()
        agent.platform.nowMilliseconds += 9_999
        _ = agent.tick()
        #expect(agent.connection.payloads(on: Self.jobs + "$next/get").count == 1)
        agent.platform.nowMilliseconds += 1
        _ = agent.tick()
        #expect(
            agent.connection.payloads(on: Self.jobs + "$next/get") == [
                #"{"clientToken":"1:dev"}"#, #"{"clientToken":"2:dev"}"#,
            ])
        // Once answered (even with "nothing pending"), it waits for notify-next.
        _ = agent.handle(
            topic: Self.jobs + "$next/get/accepted", payload: Array(#"{"clientToken":"2:dev","timestamp":1}"#.utf8))
        agent.platform.nowMilliseconds += 60_000
        _ = agent.tick()
        #expect(agent.connection.payloads(on: Self.jobs + "$next/get").count == 2)
    }

    @Test func theMemoryBudgetHolds() {
        #expect(AgentLimits.maximumBitmapBytes == 128 && AgentLimits.maximumFileSize == 4 * 1024 * 1024)
        // The agent's own state, excluding the platform and connection it is generic over: a handful of words plus
        // heap storage for at most the bitmap (128 B), the signature (≤ 72 B DER) and short strings.
        let own =
            MemoryLayout<Agent>.size - MemoryLayout<RecordingPlatform>.size - MemoryLayout<RecordingConnection>.size
        #expect(own <= 512, "agent state is \(own) bytes")
    }
}
