import OTAAgent
import OTAWire
import Testing

@Suite struct HTTPDownloadTests {
    typealias Agent = OTAAgent<RecordingPlatform, HTTPConnection>
    static let jobs = "$aws/things/dev/jobs/"
    static let update = jobs + "AFR_OTA-u1/update"
    static let url = "https://ota.example:8443/data/u1?token=1"
    /// The first byte of a block: the offsets the range requests name (typed, so the checks below type-check fast).
    static func block(_ index: UInt32) -> UInt32 { index * 4096 }
    static let file = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    static let big = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }

    static func agent(prefer preferred: OTADataProtocol = .mqtt, platform: RecordingPlatform? = nil) -> Agent {
        Agent(
            thingName: "dev", platform: platform ?? RecordingPlatform(version: "1.2.3"), connection: HTTPConnection(),
            preferredDataProtocol: preferred)
    }

    /// Answers the agent's latest request with the exact bytes it asks for, again and again until the agent stops
    /// asking or has made `count` requests in all.
    static func serve(_ agent: inout Agent, file: [UInt8], count: Int = .max) -> [AgentEvent] {
        var events: [AgentEvent] = []
        var answered = 0
        while answered < count, let request = agent.connection.requests.last,
            agent.connection.requests.count > answered
        {
            answered = agent.connection.requests.count
            let body = Array(file[Int(request.first)...Int(request.last)])
            events += agent.handleHTTPResponse(to: request, status: 206, body: body)
        }
        return events
    }

    @Test func anHTTPOnlyJobIsDownloadedInOrderOverHTTPAndActivated() {
        // The agent prefers MQTT; the document lists only HTTP, which the connection can carry: HTTP it is.
        var agent = Self.agent(prefer: .mqtt)
        _ = agent.start()
        let started = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.file.count))
        #expect(started == [.downloadStarted(jobID: "AFR_OTA-u1", fileSize: 10_000, resumedBlocks: 0)])
        #expect(agent.downloadProtocol == .http)
        #expect(agent.connection.mqtt.subscriptions == [Self.jobs + "notify-next"], "no stream subscription")
        #expect(agent.connection.requests == [HTTPRangeRequest(url: Self.url, first: 0, last: 4095)])
        #expect(agent.connection.requests.first?.rangeHeader == "bytes=0-4095")

        let events = Self.serve(&agent, file: Self.file)
        #expect(events == [.activated(jobID: "AFR_OTA-u1")])
        #expect(
            agent.connection.requests == [
                HTTPRangeRequest(url: Self.url, first: 0, last: 4095),
                HTTPRangeRequest(url: Self.url, first: 4096, last: 8191),
                HTTPRangeRequest(url: Self.url, first: 8192, last: 9999),
            ])
        #expect(agent.platform.file == Self.file)
        #expect(agent.platform.calls == ["create 10000", "close", "activate"])
        #expect(
            agent.connection.mqtt.payloads(on: Self.update) == [
                #"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/3"}}"#,
                #"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01020003"}}"#,
            ])
        #expect(agent.platform.stored == nil, "a finished download leaves no record")
        #expect(
            !agent.connection.mqtt.published.contains { $0.topic.contains("/streams/") }, "no MQTT block traffic")
    }

    @Test(arguments: [(OTADataProtocol.mqtt, OTADataProtocol.mqtt), (.http, .http)])
    func bothListedTheAgentUsesItsPreferredProtocol(preferred: OTADataProtocol, used: OTADataProtocol) {
        var agent = Self.agent(prefer: preferred)
        _ = agent.start()
        _ = agent.handle(
            topic: Self.jobs + "notify-next",
            payload: Service.httpJob(size: Self.file.count, protocols: #"["MQTT","HTTP"]"#))
        #expect(agent.downloadProtocol == used)
        let streamRequests = agent.connection.mqtt.published.filter { $0.topic.hasSuffix("/get/cbor") }.count
        #expect(streamRequests == (used == .mqtt ? 1 : 0))
        #expect(agent.connection.requests.count == (used == .http ? 1 : 0))
    }

    @Test func aDocumentListingNoProtocolTheDeviceCanUseFailsWithInvalidDataProtocol() {
        // An HTTP-only device given an MQTT-only job, as FreeRTOS's HTTP-only build: FAILED "aborted: 0x0000000d".
        var httpOnly = Self.agent(prefer: .http)
        httpOnly.connection.dataProtocols = .http
        _ = httpOnly.start()
        let events = httpOnly.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: 10_000))
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "aborted: 0x0000000d")])
        #expect(httpOnly.platform.calls.isEmpty, "no file was created")

        // An MQTT-only connection (the default) given an HTTP-only job, even when the agent would prefer HTTP.
        var mqttOnly = OTAAgent(
            thingName: "dev", platform: RecordingPlatform(version: "1.2.3"), connection: RecordingConnection(),
            preferredDataProtocol: .http)
        _ = mqttOnly.start()
        #expect(
            mqttOnly.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: 10_000))
                == [.failed(jobID: "AFR_OTA-u1", reason: "aborted: 0x0000000d")])
    }

    @Test func aRefusedURLAsksForTheJobAgainAndTheSameJobContinuesWithTheNewURLAndTheBitmap() throws {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.big.count))
        #expect(Self.serve(&agent, file: Self.big, count: 3).isEmpty)
        let refused = try #require(agent.connection.requests.last)
        #expect(refused == HTTPRangeRequest(url: Self.url, first: Self.block(3), last: Self.block(4) - 1))

        // The URL expired: 403. The agent asks for its job document again and waits.
        #expect(agent.handleHTTPResponse(to: refused, status: 403, body: []).isEmpty)
        #expect(agent.connection.mqtt.payloads(on: Self.jobs + "$next/get").count == 2)
        #expect(agent.connection.requests.count == 4, "no request before the document comes")

        // Same job, fresh URL: the bitmap stays (block 3 next), the new URL is used, nothing is erased.
        let fresh = "http://127.0.0.1:9000/bucket/u1.bin?X-Amz-Signature=new"
        let again = agent.handle(
            topic: Self.jobs + "$next/get/accepted", payload: Service.httpJob(size: Self.big.count, url: fresh))
        #expect(again.isEmpty)
        #expect(
            agent.connection.requests.last
                == HTTPRangeRequest(url: fresh, first: Self.block(3), last: Self.block(4) - 1))
        #expect(agent.platform.calls == ["create 40000"])

        // A late answer to the refused request is stale: ignored.
        #expect(agent.handleHTTPResponse(to: refused, status: 206, body: Array(repeating: 0, count: 4096)).isEmpty)
        #expect(Self.serve(&agent, file: Self.big) == [.activated(jobID: "AFR_OTA-u1")])
        #expect(agent.platform.file == Self.big)
        #expect(agent.connection.requests.dropFirst(4).allSatisfy { $0.url.description == fresh })
    }

    @Test(arguments: [0, 4095, 4097])
    func aBodyOfTheWrongLengthFailsTheJob(length: Int) {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.file.count))
        let request = agent.connection.requests[0]
        let events = agent.handleHTTPResponse(
            to: request, status: 206, body: Array(repeating: 0xAB, count: length))
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "0x000000e0: 0x00000000")])
        #expect(agent.platform.calls.contains("abort") && agent.platform.stored == nil)
        #expect(agent.downloadProtocol == nil)
        #expect(
            agent.connection.mqtt.payloads(on: Self.update).last
                == #"{"status":"FAILED","statusDetails":{"reason":"0x000000e0: 0x00000000"}}"#)
    }

    @Test(arguments: [500, 200, 0])
    func otherStatusesAreRetriedOnTheTimerUntilTheMomentumLimit(status: Int) {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.file.count))
        var events: [AgentEvent] = []
        for _ in 0..<40 where events.isEmpty {
            let request = agent.connection.requests.last!
            events += agent.handleHTTPResponse(to: request, status: status, body: Array(repeating: 0, count: 4096))
            let before = agent.connection.requests.count
            agent.platform.nowMilliseconds += 9_999
            events += agent.tick()
            #expect(agent.connection.requests.count == before, "no retry before the request timer")
            agent.platform.nowMilliseconds += 1
            events += agent.tick()
        }
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "aborted: 0x00000000")])
        #expect(agent.connection.requests.count == 32, "the first request and 31 timer retries")
        #expect(agent.platform.calls.contains("abort"))
        #expect(agent.connection.mqtt.payloads(on: Self.jobs + "$next/get").count == 1, "no job refresh")
    }

    @Test func aURLRefusedOverAndOverEndsAtTheMomentumLimitInsteadOfLoopingForever() {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.file.count))
        var events: [AgentEvent] = []
        for _ in 0..<100 where events.isEmpty {
            events += agent.handleHTTPResponse(to: agent.connection.requests.last!, status: 403, body: [])
            events += agent.handle(
                topic: Self.jobs + "$next/get/accepted", payload: Service.httpJob(size: Self.file.count))
        }
        #expect(events == [.failed(jobID: "AFR_OTA-u1", reason: "aborted: 0x00000000")])
        #expect(agent.connection.requests.count == 32)
    }

    @Test func afterARebootAnHTTPDownloadResumesWithAFreshURLAndOnlyTheMissingBlocks() {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.httpJob(size: Self.big.count))
        _ = Self.serve(&agent, file: Self.big, count: 9)
        #expect(agent.platform.stored.flatMap(DownloadRecord.init(decoding:))?.bitmap.receivedCount == 8)

        // Power loss: flash and store survive; the old URL has expired. The new boot asks for its job document.
        var platform = agent.platform
        platform.calls = []
        var rebooted = Self.agent(prefer: .http, platform: platform)
        _ = rebooted.start()
        #expect(rebooted.connection.mqtt.payloads(on: Self.jobs + "$next/get").count == 1)
        let fresh = "https://ota.example:8443/data/u1?token=2"
        let events = rebooted.handle(
            topic: Self.jobs + "$next/get/accepted", payload: Service.httpJob(size: Self.big.count, url: fresh))
        #expect(events == [.downloadStarted(jobID: "AFR_OTA-u1", fileSize: 40_000, resumedBlocks: 8)])
        #expect(rebooted.platform.calls == ["reopen 40000"], "no erase: the blocks on flash are kept")
        #expect(
            rebooted.connection.requests.first
                == HTTPRangeRequest(url: fresh, first: Self.block(8), last: Self.block(9) - 1))
        #expect(Self.serve(&rebooted, file: Self.big) == [.activated(jobID: "AFR_OTA-u1")])
        #expect(rebooted.connection.requests.map(\.first) == [Self.block(8), Self.block(9)], "only the missing blocks")
        #expect(rebooted.platform.file == Self.big)
    }

    @Test func theSameJobOfferingOnlyMQTTMovesTheDownloadToTheStreamWithTheBitmap() {
        var agent = Self.agent(prefer: .http)
        _ = agent.start()
        _ = agent.handle(
            topic: Self.jobs + "notify-next",
            payload: Service.httpJob(size: Self.big.count, protocols: #"["MQTT","HTTP"]"#))
        _ = Self.serve(&agent, file: Self.big, count: 4)
        // The operator took HTTP away: the job document now lists MQTT only.
        _ = agent.handle(topic: Self.jobs + "$next/get/accepted", payload: Service.job(size: Self.big.count))
        #expect(agent.downloadProtocol == .mqtt)
        let data = "$aws/things/dev/streams/AFR_OTA-s1/data/cbor"
        #expect(agent.connection.mqtt.subscriptions.contains(data))
        var events: [AgentEvent] = []
        for index in 3..<10 { events += agent.handle(topic: data, payload: Service.block(index, of: Self.big)) }
        #expect(events == [.activated(jobID: "AFR_OTA-u1")])
        #expect(agent.platform.file == Self.big && agent.platform.calls == ["create 40000", "close", "activate"])
    }

    @Test func aDownloadStartedOverMQTTResumesOverHTTPFromTheSameRecord() {
        // The record is protocol-free: an MQTT download cut short continues over HTTP when the next document
        // offers it to an HTTP-preferring device.
        var agent = Self.agent(prefer: .mqtt)
        _ = agent.start()
        _ = agent.handle(topic: Self.jobs + "notify-next", payload: Service.job(size: Self.big.count))
        for index in 0..<8 {
            _ = agent.handle(
                topic: "$aws/things/dev/streams/AFR_OTA-s1/data/cbor", payload: Service.block(index, of: Self.big))
        }
        var rebooted = Self.agent(prefer: .http, platform: agent.platform)
        _ = rebooted.start()
        _ = rebooted.handle(
            topic: Self.jobs + "$next/get/accepted",
            payload: Service.httpJob(size: Self.big.count, protocols: #"["MQTT","HTTP"]"#))
        #expect(
            rebooted.connection.requests.first
                == HTTPRangeRequest(url: Self.url, first: Self.block(8), last: Self.block(9) - 1))
        #expect(Self.serve(&rebooted, file: Self.big) == [.activated(jobID: "AFR_OTA-u1")])
        #expect(rebooted.platform.file == Self.big)
    }
}
