// The OTA agent (aws-ota-wire.md §5.4, §6): asks for its job, downloads the file block by block with a bitmap
// (momentum, request timer, bounded retries), writes blocks through the platform, closes and verifies, activates,
// and after the reboot runs the self-test flow with the version rule (no downgrade, no same version). It speaks
// exactly what the FreeRTOS agent (generation A) sends, and goes beyond it in one way: the download persists, so
// it resumes after a reboot or a power loss too. The blocks come over MQTT (a stream) or HTTP (range requests to the
// document's URL, §8; DataProtocol.swift, OTAAgent+HTTP.swift), whichever the document and the device's preference
// choose; the bitmap, the writes, the saves and the reports are the same for both.
//
// Event-driven and synchronous: the host feeds it messages (`handle`), time (`tick`) and connection changes, and
// acts on the events it returns. Standard library and OTAWire only, so it builds in Embedded Swift.
import OTAWire

/// What the host must know or do.
public enum AgentEvent: Equatable, Sendable {
    case downloadStarted(jobID: ByteString, fileSize: UInt32, resumedBlocks: Int)
    /// The new image passed its version check after the reboot: run the self-test, then `acceptImage` or
    /// `rejectImage`.
    case selfTestStarted(jobID: ByteString)
    /// The platform was told to activate the new image (it resets).
    case activated(jobID: ByteString)
    case succeeded(jobID: ByteString)
    case failed(jobID: ByteString, reason: ByteString)
    /// The platform was told to reset (an unconfirmed image rolls back).
    case reset
}

public struct OTAAgent<Platform: OTAPlatform, Connection: OTAConnection> {
    public var platform: Platform
    public var connection: Connection
    /// The thing name, kept once: inside the topic prefix `$aws/things/<thing>/`.
    public var thingName: ByteString { ByteString(bytes: Array(topics.thingName)) }
    let topics: AgentTopics

    enum Phase: Equatable {
        case idle
        case waitingForJob
        case downloading
        case selfTest
    }

    /// Where the blocks come from.
    enum DataSource {
        case mqtt(streamName: [UInt8])
        /// The document's `update_data_url`; swapped for a fresh one when the same job arrives again (§4.3).
        case http(url: ByteString)

        func isSame(as other: DataSource) -> Bool {
            switch (self, other) {
            case (.mqtt(let a), .mqtt(let b)): return a == b
            case (.http(let a), .http(let b)): return a == b
            default: return false
            }
        }
    }

    /// The file being downloaded and what it takes to finish it.
    ///
    /// A class: the agent hands it around and changes it in place, and one reference costs a device far less code
    /// than copying a struct of a dozen fields (each copy retains every array in it).
    final class Download {
        let jobID: [UInt8]
        var source: DataSource
        let fileID: UInt32
        let fileSize: UInt32
        let fileType: UInt32
        let signature: [UInt8]
        let certificate: ByteString
        var bitmap: BlockBitmap
        /// MQTT: blocks of the last request not yet received.
        var outstanding = 0
        /// HTTP: the request the host is executing; an answer to any other is stale and ignored.
        var httpRequest: HTTPRangeRequest?
        var momentum = 0
        var lastActivity: UInt64 = 0
        var unsaved = 0

        init(
            jobID: [UInt8], source: DataSource, fileID: UInt32, fileSize: UInt32, fileType: UInt32,
            signature: [UInt8], certificate: ByteString, bitmap: BlockBitmap
        ) {
            self.jobID = jobID
            self.source = source
            self.fileID = fileID
            self.fileSize = fileSize
            self.fileType = fileType
            self.signature = signature
            self.certificate = certificate
            self.bitmap = bitmap
        }
    }

    var phase = Phase.idle
    var download: Download?
    var selfTestJobID: [UInt8]?
    var selfTestUpdatedBy = AppVersion32(rawValue: 0)
    var selfTestDeadline: UInt64?
    /// When to ask for the job again: an unconfirmed image was shown a job that is not its self-test.
    var jobRetryAt: UInt64?
    var requestCounter = 0
    /// When `$next/get` was last sent without an answer yet (nil once answered).
    var jobRequestedAt: UInt64?

    /// Blocks received and total of the download in progress (for progress displays).
    public var downloadProgress: (received: Int, total: Int)? {
        download.map { ($0.bitmap.receivedCount, $0.bitmap.blockCount) }
    }

    /// Blocks between two saves of the bitmap: a power loss costs at most this many blocks again.
    public static var saveEvery: Int { 8 }

    /// Used when a job document lists it and the connection can carry it (FreeRTOS
    /// `configOTA_PRIMARY_DATA_PROTOCOL`).
    public let preferredDataProtocol: OTADataProtocol

    /// The protocol of the download in progress.
    public var downloadProtocol: OTADataProtocol? {
        switch download?.source {
        case .mqtt?: return .mqtt
        case .http?: return .http
        case nil: return nil
        }
    }

    public init(
        thingName: ByteString, platform: Platform, connection: Connection,
        preferredDataProtocol: OTADataProtocol = .mqtt
    ) {
        self.platform = platform
        self.connection = connection
        self.preferredDataProtocol = preferredDataProtocol
        topics = AgentTopics(thingName: thingName.bytes)
    }

    /// For hosted code that has the thing name as a String.
    public init(
        thingName: String, platform: Platform, connection: Connection, preferredDataProtocol: OTADataProtocol = .mqtt
    ) {
        self.init(
            thingName: ByteString(thingName), platform: platform, connection: connection,
            preferredDataProtocol: preferredDataProtocol)
    }

    // MARK: Host inputs

    /// After boot and connect: subscribe to notify-next, arm the self-test timer when the image is unconfirmed,
    /// and ask for the job.
    public mutating func start() -> [AgentEvent] {
        connection.subscribe(topics.jobs("notify-next"), qos: 1)
        if platform.imageState() == .pendingCommit {
            selfTestDeadline = platform.nowMilliseconds + AgentLimits.selfTestWaitMilliseconds
        }
        requestJob()
        return []
    }

    /// After a reconnect: the session may be new, so subscribe again and ask for the job; a download of the same
    /// job continues with its bitmap.
    public mutating func reconnected() -> [AgentEvent] {
        connection.subscribe(topics.jobs("notify-next"), qos: 1)
        if phase == .downloading, let download, let topic = dataTopic(download) {
            connection.subscribe(topic, qos: 0)
        }
        requestJob()
        return []
    }

    /// A message on a topic the agent subscribed to (or any other, which it ignores).
    public mutating func handle(topic: [UInt8], payload: [UInt8]) -> [AgentEvent] {
        if topics.isJobs(topic, "notify-next") || topics.isJobs(topic, "$next/get/accepted")
            || topics.isJobs(topic, "start-next/accepted")
        {
            return jobMessage(payload)
        }
        if let download, let data = dataTopic(download), topic == data {
            return dataMessage(payload)
        }
        return []
    }

    /// For hosted code that has the topic as a String.
    public mutating func handle(topic: String, payload: [UInt8]) -> [AgentEvent] {
        handle(topic: Array(topic.utf8), payload: payload)
    }

    /// Timers: the block request timer and the self-test deadline.
    public mutating func tick() -> [AgentEvent] {
        let now = platform.nowMilliseconds
        if let deadline = selfTestDeadline, phase != .selfTest, now >= deadline {
            selfTestDeadline = nil
            platform.reset()
            return [.reset]
        }
        if let retry = jobRetryAt, now >= retry {
            jobRetryAt = nil
            requestJob()
            return []
        }
        // Beyond the FreeRTOS agent, which waits forever when the answer to `$next/get` is lost: ask again.
        if let asked = jobRequestedAt, phase == .waitingForJob, now - asked >= AgentLimits.requestWaitMilliseconds {
            requestJob()
            return []
        }
        guard phase == .downloading, let current = download,
            now - current.lastActivity >= AgentLimits.requestWaitMilliseconds
        else { return [] }
        if current.momentum >= AgentLimits.maximumMomentum {
            return fail(current.jobID, AgentReports.reason("aborted", OTAErrorCode.none), abortFile: true)
        }
        requestData(current)
        return []
    }

    /// The self-test passed: commit the image and report SUCCEEDED.
    public mutating func acceptImage() -> [AgentEvent] {
        guard phase == .selfTest, let jobID = selfTestJobID else { return [] }
        let status = platform.setImageState(.accepted)
        guard status.isSuccess else {
            _ = platform.setImageState(.rejected)
            return fail(jobID, AgentReports.ingestFailure(status), abortFile: false) + resetDevice()
        }
        report(jobID, AgentReports.accepted(new: platform.runningVersion, old: selfTestUpdatedBy), qos: 1)
        endSelfTest()
        return [.succeeded(jobID: ByteString(bytes: jobID))]
    }

    /// The self-test failed: reject the image, report FAILED, reset (the bootloader rolls back).
    public mutating func rejectImage() -> [AgentEvent] {
        guard phase == .selfTest, let jobID = selfTestJobID else { return [] }
        _ = platform.setImageState(.rejected)
        let events = fail(jobID, AgentReports.reason("rejected", OTAErrorCode.none), abortFile: false)
        endSelfTest()
        return events + resetDevice()
    }

    // MARK: Jobs

    mutating func requestJob() {
        requestCounter += 1
        var token: [UInt8] = []
        token.appendDecimal(UInt32(truncatingIfNeeded: requestCounter))
        token.append(0x3A)
        token += topics.thingName
        var body = [UInt8](ascii: #"{"clientToken":"#)
        body.appendJSONString(token)
        body.append(0x7D)
        connection.publish(topic: topics.jobs("$next/get"), payload: body, qos: 1)
        jobRequestedAt = platform.nowMilliseconds
        if phase == .idle { phase = .waitingForJob }
    }

    private mutating func jobMessage(_ payload: [UInt8]) -> [AgentEvent] {
        jobRequestedAt = nil
        // Nothing pending (a timestamp-only answer) or unreadable: the current state stands.
        guard case .job(let jobID, let offered, let selfTest) = JobMessage(parsing: payload) else { return [] }
        guard let file = offered else {
            return fail(
                jobID, AgentReports.codes(OTAErrorCode.jobParserError, OTAErrorCode.nonConformingJobDocument),
                abortFile: false)
        }
        if let selfTest, file.fileID == 0, file.isFirmware {
            return selfTestJob(jobID, selfTest)
        }
        if platform.imageState() == .pendingCommit {
            // An unconfirmed image and a job that is not its self-test: it must not stay. Beyond the FreeRTOS agent,
            // which resets at once (and so rolls back): before the self-test started, the service may not have
            // recorded yet the "ready" report the previous boot sent just before it reset (that connection's
            // requests can still be queued, at another instance even). Then ask again in a moment; the self-test
            // timer still resets the device if its self-test job never comes. During the self-test (no timer) the
            // job was cancelled or replaced: reset, and the bootloader rolls back.
            guard phase != .selfTest, selfTestDeadline != nil else { return resetDevice() }
            jobRetryAt = platform.nowMilliseconds + AgentLimits.selfTestJobRetryMilliseconds
            return []
        }
        if phase == .downloading, let current = download, current.jobID == jobID {
            return continueDownload(current, file: file)
        }
        if let current = download {
            // A different job replaces the one in progress.
            platform.abortFile()
            unsubscribeData(current)
            download = nil
            platform.saveState([])
        }
        return startDownload(jobID, file: file)
    }

    private mutating func selfTestJob(_ jobID: [UInt8], _ details: SelfTestDetails) -> [AgentEvent] {
        let updatedBy = details.updatedBy
        // The job this agent is self-testing, delivered again (a repeated $next answer when the service was slow, a
        // late notify-next), changes nothing: its statusDetails now carry the report this agent made, whose
        // updatedBy is the running version, and must not fail the self-test as a same-version update would.
        if phase == .selfTest, let current = selfTestJobID, current == jobID { return [] }
        let running = platform.runningVersion
        if updatedBy == running, details.phase?.equals("active") == true, platform.imageState() == .valid {
            // Only this image's own agent reports "active" with its version as updatedBy, and only a passed
            // self-test makes the image VALID: the self-test passed and its SUCCEEDED was lost (the connection
            // dropped while it was queued). Report it again; the version before the update is no longer known
            // here, so the report names the running one. Failing it as a same-version update (the FreeRTOS rule,
            // meant for a device that rolled back) would mark a good update FAILED.
            report(jobID, AgentReports.accepted(new: running, old: running), qos: 1)
            return [.succeeded(jobID: ByteString(bytes: jobID))]
        }
        if updatedBy == running {
            return fail(jobID, AgentReports.reason("rejected", OTAErrorCode.sameFirmwareVersion), abortFile: false)
                + resetIfUnconfirmed()
        }
        if updatedBy > running {
            return fail(jobID, AgentReports.reason("rejected", OTAErrorCode.downgradeNotAllowed), abortFile: false)
                + resetIfUnconfirmed()
        }
        if platform.imageState() == .valid {
            // Beyond the FreeRTOS agent, which reports an image state mismatch here: this newer image was confirmed
            // on an earlier boot and the power went off before SUCCEEDED left (the port erases the older images
            // right after the confirmation, which takes a while). Only a passed self-test makes an image VALID (the
            // platform says `.valid` only when the bootloader's record does; a factory or fallback boot is unknown).
            report(jobID, AgentReports.accepted(new: running, old: updatedBy), qos: 1)
            return [.succeeded(jobID: ByteString(bytes: jobID))]
        }
        report(jobID, AgentReports.selfTest("active", updatedBy: running), qos: 1)
        guard platform.imageState() == .pendingCommit else {
            return fail(jobID, AgentReports.reason("rejected", OTAErrorCode.imageStateMismatch), abortFile: false)
        }
        _ = platform.setImageState(.testing)
        jobRetryAt = nil
        phase = .selfTest
        selfTestJobID = jobID
        selfTestUpdatedBy = updatedBy
        selfTestDeadline = nil
        return [.selfTestStarted(jobID: ByteString(bytes: jobID))]
    }

    // MARK: Download

    private mutating func startDownload(_ jobID: [UInt8], file: OfferedFile) -> [AgentEvent] {
        let blocks = BlockBitmap.blockCount(fileSize: Int(file.fileSize), blockSize: AgentLimits.blockSize)
        // Jobs the agent cannot track are ignored without a status, as the FreeRTOS agent does (§4.1).
        guard file.fileSize > 0, blocks <= AgentLimits.maximumBlocks else { return [] }
        guard let chosen = chooseProtocol(file) else {
            return fail(jobID, AgentReports.reason("aborted", OTAErrorCode.invalidDataProtocol), abortFile: false)
        }
        // So are documents without the stream name or URL the chosen protocol needs.
        guard let source = Self.dataSource(chosen, file: file) else { return [] }
        guard let signature = Base64.decode(file.signature), !signature.isEmpty else {
            return fail(jobID, AgentReports.ingestFailure(.signatureCheckFailed), abortFile: false)
        }
        var resumedBitmap: BlockBitmap?
        if let saved = platform.loadState().flatMap(DownloadRecord.init(decoding:)), saved.jobID == jobID,
            saved.fileSize == file.fileSize,
            platform.reopenFile(size: file.fileSize, fileType: file.fileType).isSuccess
        {
            resumedBitmap = saved.bitmap
        } else {
            let status = platform.createFile(size: file.fileSize, fileType: file.fileType)
            guard status.isSuccess else {
                return fail(
                    jobID, AgentReports.reason("aborted", UInt32(status.main) << 24 | status.sub), abortFile: false)
            }
        }
        let current = Download(
            jobID: jobID, source: source, fileID: file.fileID, fileSize: file.fileSize, fileType: file.fileType,
            signature: signature, certificate: ByteString(bytes: file.certificate),
            bitmap: resumedBitmap ?? BlockBitmap(blockCount: blocks))
        save(current)
        phase = .downloading
        if let topic = dataTopic(current) { connection.subscribe(topic, qos: 0) }
        let events: [AgentEvent] = [
            .downloadStarted(
                jobID: ByteString(bytes: jobID), fileSize: file.fileSize, resumedBlocks: current.bitmap.receivedCount)
        ]
        download = current
        if current.bitmap.isComplete { return events + closeFile() }
        requestData(current)
        return events
    }

    /// The same job again while downloading (a reconnect, a notify-next, the refresh after an HTTP 4xx): the
    /// bitmap stays; the protocol is chosen again and the stream name or URL taken from this document (§4.3).
    private mutating func continueDownload(_ current: Download, file: OfferedFile) -> [AgentEvent] {
        guard let chosen = chooseProtocol(file) else {
            return fail(
                current.jobID, AgentReports.reason("aborted", OTAErrorCode.invalidDataProtocol), abortFile: true)
        }
        // A document without the stream name or URL leaves the current one in use.
        if let source = Self.dataSource(chosen, file: file), !source.isSame(as: current.source) {
            unsubscribeData(current)
            current.source = source
            if let topic = dataTopic(current) { connection.subscribe(topic, qos: 0) }
        }
        // Beyond the FreeRTOS agent, which loops without a pause on a URL the server keeps refusing (§8.1): the
        // refreshes count against the momentum limit like timer retries.
        if case .http = current.source, current.momentum >= AgentLimits.maximumMomentum {
            return fail(current.jobID, AgentReports.reason("aborted", OTAErrorCode.none), abortFile: true)
        }
        requestData(current)
        return []
    }

    private func chooseProtocol(_ file: OfferedFile) -> OTADataProtocol? {
        connection.dataProtocols.choose(listed: file.protocols, preferred: preferredDataProtocol)
    }

    private static func dataSource(_ chosen: OTADataProtocol, file: OfferedFile) -> DataSource? {
        switch chosen {
        case .mqtt:
            guard let stream = file.streamName, !stream.isEmpty, stream.count <= AgentLimits.maximumStreamNameBytes
            else { return nil }
            return .mqtt(streamName: stream)
        case .http:
            guard let url = file.url, !url.isEmpty, url.count <= AgentLimits.maximumURLBytes else { return nil }
            return .http(url: ByteString(bytes: url))
        }
    }

    /// Asks for the next blocks over the download's protocol, and restarts the request timer.
    mutating func requestData(_ current: Download) {
        switch current.source {
        case .mqtt(let stream): requestBlocks(current, stream: stream)
        case .http(let url): requestRange(current, url: url)
        }
    }

    private mutating func requestBlocks(_ current: Download, stream: [UInt8]) {
        connection.publish(
            topic: topics.stream(stream, "/get/cbor"),
            payload: StreamCodec.request(fileID: current.fileID, bitmap: current.bitmap.bytes), qos: 0)
        current.outstanding = min(AgentLimits.blocksPerRequest, current.bitmap.neededCount)
        current.momentum += 1
        current.lastActivity = platform.nowMilliseconds
    }

    private mutating func dataMessage(_ payload: [UInt8]) -> [AgentEvent] {
        guard phase == .downloading, let current = download else { return [] }
        current.lastActivity = platform.nowMilliseconds
        // Everything malformed or out of range in a data message is fatal (§5.2).
        guard let block = StreamCodec.block(payload), block.index < UInt64(current.bitmap.blockCount) else {
            return fail(current.jobID, AgentReports.ingestFailure(.uninitialized), abortFile: true)
        }
        let index = Int(block.index)
        let last = current.bitmap.blockCount - 1
        let expected = index < last ? AgentLimits.blockSize : Int(current.fileSize) - last * AgentLimits.blockSize
        guard block.payload.count == expected else {
            return fail(current.jobID, AgentReports.ingestFailure(.uninitialized), abortFile: true)
        }
        guard current.bitmap.isNeeded(index) else { return [] }  // a duplicate: only the timer asks again
        if let failure = receive(index, block.payload, into: current) { return failure }
        current.outstanding -= 1
        if current.bitmap.isComplete { return closeFile() }
        if current.outstanding <= 0 { requestData(current) }
        return []
    }

    /// Writes a block the download needs, marks it received, reports progress when due and saves the bitmap every
    /// `saveEvery` blocks; returns the failure's events when the platform could not write it.
    mutating func receive(_ index: Int, _ bytes: ArraySlice<UInt8>, into current: Download) -> [AgentEvent]? {
        let status = platform.writeBlock(offset: UInt32(index * AgentLimits.blockSize), bytes: bytes)
        guard status.isSuccess else { return fail(current.jobID, AgentReports.ingestFailure(status), abortFile: true) }
        current.bitmap.markReceived(index)
        current.momentum = 0
        current.unsaved += 1
        let received = current.bitmap.receivedCount
        if received == 1 || received % AgentLimits.statusFrequency == 0 {
            report(current.jobID, AgentReports.progress(received: received, total: current.bitmap.blockCount), qos: 0)
        }
        if current.unsaved >= Self.saveEvery {
            save(current)
            current.unsaved = 0
        }
        return nil
    }

    mutating func closeFile() -> [AgentEvent] {
        guard let current = download else { return [] }
        unsubscribeData(current)
        let status = platform.closeFile(signature: current.signature, certificate: current.certificate)
        guard status.isSuccess else { return fail(current.jobID, AgentReports.ingestFailure(status), abortFile: true) }
        download = nil
        platform.saveState([])
        phase = .waitingForJob
        if current.fileType != 0 {
            report(
                current.jobID,
                AgentReports.accepted(new: AppVersion32(rawValue: current.fileType), old: AppVersion32(rawValue: 0)),
                qos: 1)
            return [.succeeded(jobID: ByteString(bytes: current.jobID))]
        }
        report(current.jobID, AgentReports.selfTest("ready", updatedBy: platform.runningVersion), qos: 1)
        let activation = platform.activate()
        guard activation.isSuccess else {
            return fail(current.jobID, AgentReports.ingestFailure(activation), abortFile: false)
        }
        return [.activated(jobID: ByteString(bytes: current.jobID))]
    }

    // MARK: Helpers

    /// The MQTT data topic (nil for an HTTP download, which subscribes to nothing).
    private func dataTopic(_ current: Download) -> [UInt8]? {
        guard case .mqtt(let stream) = current.source else { return nil }
        return topics.stream(stream, "/data/cbor")
    }

    private mutating func unsubscribeData(_ current: Download) {
        if let topic = dataTopic(current) { connection.unsubscribe(topic) }
    }

    private mutating func save(_ current: Download) {
        platform.saveState(
            DownloadRecord(jobID: current.jobID, fileSize: current.fileSize, bitmap: current.bitmap).encoded)
    }

    /// Publishes an UpdateJobExecution for the job.
    private mutating func report(_ jobID: [UInt8], _ payload: [UInt8], qos: UInt8) {
        connection.publish(topic: topics.updateJob(jobID), payload: payload, qos: qos)
    }

    /// Reports FAILED; with `abortFile` also drops the download (PAL abort, bitmap forgotten).
    mutating func fail(_ jobID: [UInt8], _ reason: [UInt8], abortFile: Bool) -> [AgentEvent] {
        report(jobID, AgentReports.failed(reason), qos: 1)
        if abortFile, let current = download, current.jobID == jobID {
            unsubscribeData(current)
            _ = platform.setImageState(.aborted)
            platform.abortFile()
            platform.saveState([])
            download = nil
            phase = .waitingForJob
        }
        return [.failed(jobID: ByteString(bytes: jobID), reason: ByteString(bytes: reason))]
    }

    private mutating func resetIfUnconfirmed() -> [AgentEvent] {
        platform.imageState() == .pendingCommit ? resetDevice() : []
    }

    private mutating func resetDevice() -> [AgentEvent] {
        platform.reset()
        return [.reset]
    }

    private mutating func endSelfTest() {
        phase = .waitingForJob
        selfTestJobID = nil
        selfTestDeadline = nil
    }
}

extension OTAAgent {
    /// The bytes of heap storage the agent's state holds now (array contents, not allocator or object headers): the topics,
    /// and during a download the job id, the bitmap, the signature, the certificate name and the stream name or
    /// URL. With the block payload read in place from the host's message buffer, this plus the transient copy of a
    /// job message's strings while it is read is all the memory the agent adds to the host's buffers.
    var heapBytes: Int {
        var total = topics.prefix.count + (selfTestJobID?.count ?? 0)
        if let download {
            // The request in flight shares its URL's storage with the source.
            total +=
                download.jobID.count + download.signature.count + download.certificate.bytes.count
                + download.bitmap.bytes.count
            switch download.source {
            case .mqtt(let stream): total += stream.count
            case .http(let url): total += url.bytes.count
            }
        }
        return total
    }
}
