import Foundation
import Logging
import MQTT
import OTAWire
import Synchronization

// The device-facing front end: answers the Jobs and Streams MQTT APIs for each connected thing and delivers the
// responses to the requesting session without a subscription, as AWS IoT Core does (aws-ota-wire.md §2).
// Each session's Jobs requests are handled in arrival order by one task (a progress report must never overtake the
// report before it), its Streams requests by another, or at once on its event loop when nothing waits before them
// (DeviceInbox.swift); each request a task takes runs in a child task of it (`processInChildTask`); sessions run
// concurrently. A QoS 0 progress report with nothing of its session queued before it is handed to the engine to hold
// on the event loop (DeviceGateway+HeldProgress.swift).

public final class DeviceGateway: MQTTRequestHandler {
    /// A connection's stream requests are paced to this many a second, sustained: a well-behaved agent asks a few times
    /// a second (8 blocks, or 1, per request). A device asking faster is served at the rate, not refused — the
    /// FreeRTOS agent treats a refusal as silence and waits for its request timer — and its inbox keeps only its
    /// newest requests meanwhile, so a device that floods GetStream takes no more of the service than this.
    static let streamRequestRate = 100.0
    /// Stream requests allowed at once above the rate (a burst after a reconnect, or a retry round).
    static let streamRequestBurst = 200.0
    let engine: JobEngine
    private let streams: StreamServer
    private let store: any OTAStore
    private let logger: Logger
    /// Each connected thing's inboxes (DeviceInbox.swift).
    private let inboxes = Mutex<[String: DeviceInbox]>([:])
    /// Each thing's newest Jobs inbox task. A new connection's Jobs requests are answered only after the previous
    /// connection's: the agent reports "ready" and reboots at once, and the new boot's `$next/get`, answered before
    /// that report was recorded, shows the new image a job that is not its self-test, so it resets into the old one.
    private let jobQueues = Mutex<[String: (number: UInt64, task: Task<Void, Never>)]>([:])
    private let jobQueueNumbers = Atomic<UInt64>(0)
    /// When this process last wrote each thing's lastSeenAt (engine time, seconds).
    private let lastSeenWrites = Mutex<[String: Int64]>([:])
    /// Told of each thing that connected (the other instances close its older connection).
    private let connectionObserver = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// A thing's lastSeenAt is kept to the minute by default.
    public static let defaultLastSeenResolution: Int64 = 60
    /// Seconds within which a thing's reconnects do not write its lastSeenAt again.
    let lastSeenResolution: Int64

    public init(
        engine: JobEngine, streams: StreamServer, store: any OTAStore,
        lastSeenResolution: Int64 = DeviceGateway.defaultLastSeenResolution, logger: Logger
    ) {
        self.engine = engine
        self.streams = streams
        self.store = store
        self.lastSeenResolution = lastSeenResolution
        self.logger = logger
    }

    /// The thing's next execution changed, here or on another instance: what it may download is read again.
    public func nextExecutionChanged(of thing: String) {
        streams.endGrants(of: thing)
    }

    /// Events from the other instances may have been lost: every device's right to its stream is read again.
    public func clusterEventsMissed() {
        streams.endAllGrants()
    }

    public func setConnectionObserver(_ observer: @escaping @Sendable (String) -> Void) {
        connectionObserver.withLock { $0 = observer }
    }

    // MARK: MQTTRequestHandler

    public func handle(_ publish: PublishPacket, from session: MQTTSessionContext) -> Bool {
        let request = DeviceRequest(topic: publish.topic, thing: session.clientID)
        guard request != .other else { return false }
        guard let inbox = inboxes.withLock({ $0[session.clientID] }) else {
            logger.warning("request from a session without an inbox", metadata: ["thing": "\(session.clientID)"])
            return true
        }
        var item = DeviceInbox.Item(request: request, publish: publish, session: session)
        switch request {
        case .streamGet, .streamDescribe:
            // Called on the connection's event loop: a block request is answered here when it may go ahead of the
            // queue and needs nothing read from the store (StreamServer.blocksAtOnce).
            guard inbox.takeStreamTurn(for: session) else {
                inbox.queueStream(item)
                return true
            }
            if case .streamGet(let streamID, let format) = request,
                answerStreamGetAtOnce(publish.payload, streamID: streamID, format: format, session: session)
            {
                return true
            }
            item.charged = true
            inbox.queueStream(item)
        default:
            // A QoS 0 progress report with nothing before it is held at once (no hop to the inbox's task).
            if inbox.takeJobsTurn(for: session) {
                let held = holdAtOnce(request, publish, session: session)
                inbox.jobsAnswered()
                if held { return true }
            }
            inbox.queueJobs(item)
        }
        return true
    }

    public func sessionConnected(_ session: MQTTSessionContext) {
        let jobs = AsyncStream<DeviceInbox.Item>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let streams = AsyncStream<DeviceInbox.Item>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let inbox = DeviceInbox(
            session: session, jobs: jobs.continuation, streams: streams.continuation, rate: Self.streamRequestRate,
            burst: Self.streamRequestBurst)
        let previous = inboxes.withLock { inboxes in
            defer {
                inboxes[session.clientID] = inbox
                // Chained in the same critical section: two connections of one client id arriving together are
                // answered in the order their inboxes were installed.
                answerInOrder(jobs.stream, of: inbox, thing: session.clientID)
            }
            return inboxes[session.clientID]
        }
        previous?.finish()
        connectionObserver.withLock({ $0 })?(session.clientID)
        Task(priority: .low) {
            for await item in streams.stream {
                let wait = inbox.chargeQueued(item)
                if wait > .zero { try? await Task.sleep(for: wait) }
                await self.processInChildTask(item)
                inbox.streamAnswered()
            }
        }
        let thing = session.clientID
        let time = engine.now()
        // "Last seen" is kept to the minute (by default): a device that reconnects sooner (a flaky link, a reboot
        // loop) costs no write.
        let resolution = lastSeenResolution
        let due = lastSeenWrites.withLock { written in
            if let last = written[thing], time - last < resolution { return false }
            written[thing] = time
            return true
        }
        guard due else { return }
        // Another instance may have written it within the resolution (the device came back there from a reboot): the
        // store keeps the same rule, so that costs no write either.
        Task { try? await store.recordSeen(thing: thing, at: time, interval: resolution) }
    }

    public func sessionDisconnected(_ session: MQTTSessionContext) {
        // A device that reconnected over a half-open link has a new session already; the old socket's close must
        // not take the new session's inboxes (its requests would go unanswered while PINGREQ still works).
        let ended = inboxes.withLock { inboxes -> DeviceInbox? in
            guard let current = inboxes[session.clientID], current.session.isSameConnection(as: session) else {
                return nil
            }
            return inboxes.removeValue(forKey: session.clientID)
        }
        ended?.finish()
    }

    /// Answers a connection's Jobs requests in order, once every earlier connection of the thing has had its own.
    private func answerInOrder(_ requests: AsyncStream<DeviceInbox.Item>, of inbox: DeviceInbox, thing: String) {
        let number = jobQueueNumbers.add(1, ordering: .relaxed).newValue
        jobQueues.withLock { queues in
            let earlier = queues[thing]?.task
            let task = Task(priority: .high) {
                await earlier?.value
                inbox.openJobs()
                for await item in requests {
                    await self.processInChildTask(item)
                    inbox.jobsAnswered()
                }
                // A turn taken on the event loop ends within microseconds: the next connection waits for it (1 s at
                // most, so that a miscount could never stall the thing's later connections).
                for _ in 0..<1000 where !inbox.jobsIdle { try? await Task.sleep(for: .milliseconds(1)) }
                self.jobQueues.withLock { if $0[thing]?.number == number { $0[thing] = nil } }
            }
            queues[thing] = (number, task)
        }
    }

    // MARK: Requests

    /// Answers a queued request in a child task of its own, for the two tasks that live as long as their connection.
    /// A task keeps the slabs of task-allocator memory its deepest call needed until it ends (Swift keeps them for
    /// reuse). On PostgreSQL a device's two tasks kept about 110 KiB each between requests (heaptrack: 220 MiB of task
    /// slabs in an instance with 1,000 devices): the fleet bench's instance peaked at 275–285 MiB, and at 181–189 MiB
    /// this way (docs/benchmark-history.md). A child's memory goes when it ends.
    private func processInChildTask(_ item: DeviceInbox.Item) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.process(item.request, item.publish, from: item.session) }
        }
    }

    func process(_ request: DeviceRequest, _ publish: PublishPacket, from session: MQTTSessionContext) async {
        let thing = session.clientID
        let topics = ThingTopics(thingName: thing)
        switch request {
        case .getPendingJobs, .startNext, .describeJob, .updateJob:
            await answerJobs(request, publish, thing: thing, session: session)
        case .streamGet(let streamID, let format):
            await answerStreamGet(publish.payload, streamID: streamID, format: format, topics: topics, session: session)
        case .streamDescribe(let streamID, let format):
            await answerStreamDescribe(
                publish.payload, streamID: streamID, format: format, topics: topics, session: session)
        case .reservedNonRequest:
            logger.info(
                "dropped a publish to a reserved topic", metadata: ["thing": "\(thing)", "topic": "\(publish.topic)"])
        case .other:
            break
        }
    }

    private func answerJobs(
        _ request: DeviceRequest, _ publish: PublishPacket, thing: String, session: MQTTSessionContext
    ) async {
        let time = engine.now()
        var token: String?
        do {
            let body = try jobsRequestBody(publish.payload)
            token = try jobsClientToken(in: body)
            if try await heldProgress(request, publish, body: body, thing: thing, token: token, session: session) {
                return
            }
            // What is held of this thing's progress is recorded first: its requests keep their order.
            await engine.settleProgress(of: thing)
            let payload = try await jobsResponse(request, body: body, thing: thing, token: token, time: time)
            session.deliver(topic: ThingTopics.response(to: publish.topic, accepted: true), payload: payload)
            logger.debug(
                "jobs request accepted",
                metadata: [
                    "thing": "\(thing)", "topic": "\(publish.topic)", "body": "\(Self.excerpt(publish.payload))",
                    "answer": "\(Self.excerpt(payload))",
                ])
        } catch {
            reject(publish, with: error, thing: thing, token: token, time: time, session: session)
        }
    }

    func reject(
        _ publish: PublishPacket, with error: any Error, thing: String, token: String?, time: Int64,
        session: MQTTSessionContext
    ) {
        let (code, message, state) = Self.jobsError(error)
        if code == .internalError { logger.error("jobs request failed", metadata: ["error": "\(error)"]) }
        logger.debug(
            "jobs request rejected",
            metadata: [
                "thing": "\(thing)", "topic": "\(publish.topic)", "body": "\(Self.excerpt(publish.payload))",
                "code": "\(code.rawValue)", "why": "\(message)",
            ])
        session.deliver(
            topic: ThingTopics.response(to: publish.topic, accepted: false),
            payload: jobsRejection(
                code: code, message: message, clientToken: token, timestamp: time,
                executionState: state.map { Self.stateJSON($0) }))
    }

    private func jobsResponse(_ request: DeviceRequest, body: JSONValue, thing: String, token: String?, time: Int64)
        async throws -> [UInt8]
    {
        switch request {
        case .describeJob(let jobID) where jobID == "$next":
            return jobExecutionResponse(
                clientToken: token, timestamp: time, execution: try await engine.describeNext(thing: thing))
        case .describeJob(let jobID):
            let number = try body["executionNumber"].map { value throws(JobsRequestError) -> Int64 in
                guard let number = value.unsignedValue(maximum: UInt64(Int64.max)) else {
                    throw JobsRequestError(.invalidRequest, "executionNumber must be an integer")
                }
                return Int64(number)
            }
            let includeDocument = body["includeJobDocument"]?.boolValue ?? true
            let execution = try await engine.describe(
                thing: thing, jobID: jobID, executionNumber: number, includeDocument: includeDocument)
            return jobExecutionResponse(clientToken: token, timestamp: time, execution: execution)
        case .startNext:
            let request = try StartNextPendingJobExecutionRequest(parsing: body)
            let execution = try await engine.startNext(
                thing: thing, statusDetails: request.statusDetails, stepTimeoutMinutes: request.stepTimeoutInMinutes)
            return jobExecutionResponse(clientToken: token, timestamp: time, execution: execution)
        case .getPendingJobs:
            let open = try await engine.pending(thing: thing)
            var object = JSONObject()
            if let token { object.set("clientToken", .string(token)) }
            object.set("timestamp", .number(String(time)))
            object.set("inProgressJobs", .array(open.filter { $0.status == .inProgress }.map(Self.summary)))
            object.set("queuedJobs", .array(open.filter { $0.status == .queued }.map(Self.summary)))
            return JSONValue.object(object).serialized
        case .updateJob(let jobID):
            guard !jobID.isEmpty, jobID != "$next" else {
                throw JobsRequestError(.invalidTopic, "the update topic names no job")
            }
            let request = try UpdateJobExecutionRequest(parsing: body)
            let outcome = try await engine.update(thing: thing, jobID: jobID, request: request)
            return Self.updateAnswer(outcome, token: token, time: time)
        default:
            throw JobsRequestError(.invalidTopic, "not a Jobs request topic")
        }
    }

    /// A device message as a log shows it: UTF-8 text up to 240 bytes (CBOR and other binary as a byte count).
    static func excerpt(_ payload: [UInt8]) -> String {
        guard payload.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return "\(payload.count) bytes (binary)" }
        let text = String(decoding: payload.prefix(240), as: UTF8.self)
        return payload.count > 240 ? text + "… (\(payload.count) bytes)" : text
    }

    private static func summary(_ execution: JobExecution) -> JSONValue {
        var object = JSONObject([
            JSONMember("jobId", .string(execution.jobID)), JSONMember("queuedAt", .number(String(execution.queuedAt))),
        ])
        if let started = execution.startedAt { object.set("startedAt", .number(String(started))) }
        object.set("lastUpdatedAt", .number(String(execution.lastUpdatedAt)))
        object.set("versionNumber", .number(String(execution.versionNumber)))
        object.set("executionNumber", .number(String(execution.executionNumber)))
        return .object(object)
    }

    private static func stateJSON(_ execution: JobExecution) -> JSONValue {
        var object = JSONObject([JSONMember("status", .string(execution.status.rawValue))])
        if let text = execution.statusDetails, let details = try? JSONParser.parse(text) {
            object.set("statusDetails", details)
        }
        object.set("versionNumber", .number(String(execution.versionNumber)))
        return .object(object)
    }

    private static func jobsError(_ error: any Error) -> (JobsErrorCode, String, JobExecution?) {
        switch error {
        case let rejection as JobsUpdateRejection:
            return (rejection.error.code, rejection.error.message, rejection.state)
        case let error as JobsRequestError: return (error.code, error.message, nil)
        default: return (.internalError, "the request could not be processed", nil)
        }
    }

    private func answerStreamGet(
        _ payload: [UInt8], streamID: String, format: StreamPayloadFormat, topics: ThingTopics,
        session: MQTTSessionContext
    ) async {
        do {
            let request = try Self.streamRequest(payload, format: format)
            let blocks = try await streams.blocks(thing: topics.thingName, streamID: streamID, request: request)
            send(blocks, for: request, streamID: streamID, format: format, topics: topics, session: session)
        } catch {
            rejectStream(error, streamID: streamID, format: format, topics: topics, session: session)
        }
    }

    /// Answers without suspending when the blocks are at hand (true); false when the store must be asked first.
    private func answerStreamGetAtOnce(
        _ payload: [UInt8], streamID: String, format: StreamPayloadFormat, session: MQTTSessionContext
    ) -> Bool {
        let topics = ThingTopics(thingName: session.clientID)
        do {
            let request = try Self.streamRequest(payload, format: format)
            guard let blocks = try streams.blocksAtOnce(thing: session.clientID, streamID: streamID, request: request)
            else { return false }
            send(blocks, for: request, streamID: streamID, format: format, topics: topics, session: session)
        } catch {
            rejectStream(error, streamID: streamID, format: format, topics: topics, session: session)
        }
        return true
    }

    private static func streamRequest(_ payload: [UInt8], format: StreamPayloadFormat) throws -> StreamRequest {
        format == .cbor ? try StreamRequest.decodeCBOR(payload) : try StreamRequest.decodeJSON(payload)
    }

    /// The blocks as one batch of data messages, CBOR ones encoded straight from the file's bytes into the outgoing
    /// buffer (one copy; NIOSSL seals the batch in records of up to 16 KiB rather than one per block). JSON ones
    /// (generation C, rare) carry the block in base64 and are built as before.
    private func send(
        _ blocks: [StreamBlock], for request: StreamRequest, streamID: String, format: StreamPayloadFormat,
        topics: ThingTopics, session: MQTTSessionContext
    ) {
        logger.debug(
            "stream request answered",
            metadata: [
                "thing": "\(topics.thingName)", "stream": "\(streamID)", "file": "\(request.fileID)",
                "blockSize": "\(request.blockSize)", "firstBlock": "\(request.blockOffset)",
                "blocksAsked": "\(request.numberOfBlocks.map { "\($0)" } ?? "1")",
                "bitmapBytes": "\(request.bitmap?.count ?? 0)",
                "sent":
                    "\(blocks.count) [\(blocks.first.map { "\($0.index)" } ?? "-")…\(blocks.last.map { "\($0.index)" } ?? "-")]",
            ])
        let topic = topics.streamData(streamID, format: format)
        let largest = blocks.reduce(0) { max($0, $1.bytes.count) }
        // The data message around the block: a CBOR head of at most 32 bytes, or base64 and JSON keys.
        let message = format == .cbor ? largest + 32 : (largest + 2) / 3 * 4 + 64
        var batch = PublishBatch(
            capacity: blocks.count * PublishBatch.encodedSize(topic: topic, payloadSize: message))
        for block in blocks {
            switch format {
            case .cbor:
                let head = StreamDataBlock.cborHead(
                    fileID: request.fileID, blockIndex: block.index, payloadSize: block.bytes.count)
                batch.append(topic: topic, prefix: head, payload: block.bytes)
            case .json:
                let message = StreamDataBlock(
                    fileID: request.fileID, blockIndex: block.index, payload: Array(block.bytes))
                batch.append(topic: topic, payload: message.jsonEncoded[...])
            }
        }
        session.deliver(batch)
    }

    private func answerStreamDescribe(
        _ payload: [UInt8], streamID: String, format: StreamPayloadFormat, topics: ThingTopics,
        session: MQTTSessionContext
    ) async {
        do {
            let request =
                format == .cbor
                ? try DescribeStreamRequest.decodeCBOR(payload) : try DescribeStreamRequest.decodeJSON(payload)
            let token = request.clientToken
            let stream = try await streams.describe(thing: topics.thingName, streamID: streamID, clientToken: token)
            let files = stream.files.map { ($0.fileID, $0.size) }
            let answer: [UInt8]
            if format == .cbor {
                var pairs: [CBORPair] = []
                if let token { pairs.append(CBORPair(.text("c"), .text(token))) }
                pairs.append(CBORPair(.text("s"), .unsigned(UInt64(stream.version))))
                pairs.append(CBORPair(.text("d"), .text("")))
                pairs.append(
                    CBORPair(
                        .text("r"),
                        .array(
                            files.map {
                                .map([
                                    CBORPair(.text("f"), .unsigned(UInt64($0.0))),
                                    CBORPair(.text("z"), .unsigned(UInt64($0.1))),
                                ])
                            })))
                answer = CBORValue.map(pairs).encoded
            } else {
                var object = JSONObject()
                if let token { object.set("c", .string(token)) }
                object.set("s", .integer(stream.version))
                object.set("d", .string(""))
                object.set(
                    "r",
                    .array(
                        files.map {
                            .object(
                                JSONObject([JSONMember("f", .integer($0.0)), JSONMember("z", .number(String($0.1)))]))
                        }))
                answer = JSONValue.object(object).serialized
            }
            session.deliver(topic: topics.streamDescription(streamID, format: format), payload: answer)
        } catch {
            rejectStream(error, streamID: streamID, format: format, topics: topics, session: session)
        }
    }

    private func rejectStream(
        _ error: any Error, streamID: String, format: StreamPayloadFormat, topics: ThingTopics,
        session: MQTTSessionContext
    ) {
        let rejection = error as? StreamRequestError ?? StreamRequestError(.internalError, "the request failed")
        logger.debug(
            "stream request rejected",
            metadata: [
                "thing": "\(topics.thingName)", "code": "\(rejection.code.rawValue)", "why": "\(rejection.message)",
            ])
        session.deliver(topic: topics.streamRejected(streamID, format: format), payload: rejection.rejectionPayload)
    }
}
