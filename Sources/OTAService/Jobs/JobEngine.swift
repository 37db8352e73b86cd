import Foundation
import Logging
import OTAWire
import Synchronization

// The jobs side of the service: executions as devices see them through the Jobs MQTT API, and the
// notify-next rule. Every operation is one store transaction; notify-next goes out after the commit, and only
// when the identity of a thing's next execution changed (aws-ota-wire.md §3.3) — never for progress.

/// Receives notify-next payloads for delivery to a thing (the gateway publishes them on its notify-next topic).
public typealias NotifyNextSink = @Sendable (_ thing: String, _ payload: [UInt8]) -> Void

public final class JobEngine: Sendable {
    let store: any OTAStore
    let now: @Sendable () -> Int64
    let logger: Logger
    private let sink = Mutex<NotifyNextSink?>(nil)
    /// Told which things' next execution changed, after the local notify-next went out (other instances).
    private let nextObserver = Mutex<(@Sendable ([ClusterEvent.NextExecution]) async -> Void)?>(nil)
    private let documents = Mutex<[String: DeliveredDocument]>([:])
    /// Issues the fresh URL of each HTTP job document delivered; nil when the service has no data plane.
    let dataURLs: DataURLs?
    private let inProgressTimeouts = Mutex<[String: Int?]>([:])
    /// Counts each committed execution change and device-reported signature failure.
    let metrics: ServiceMetrics
    /// Plain progress reports sent at QoS 0, recorded together (JobEngine+HeldProgress.swift).
    let progressLedger: ProgressLedger
    /// Executions ("thing\0job") this engine last recorded in progress: only a report on one of those is held. A
    /// device's first report moves its execution out of QUEUED, a status change an operator watches, and is recorded
    /// at once. A stale entry costs nothing but a report taking the checked path when it is recorded.
    let knownInProgress = Mutex<Set<String>>([])

    /// `progressHold`: how long a QoS 0 progress report may wait to be recorded with others (ProgressLedger.swift).
    public init(
        store: any OTAStore, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "swiftota.jobs"), dataURLs: DataURLs? = nil, metrics: ServiceMetrics = .none,
        progressHold: Duration = ProgressLedger.defaultInterval
    ) {
        self.store = store
        self.now = now
        self.logger = logger
        self.dataURLs = dataURLs
        self.metrics = metrics
        progressLedger = ProgressLedger(interval: progressHold)
        progressLedger.setRecorder { [weak self] batch in await self?.recordHeld(batch) }
    }

    /// Runs `body` in one write transaction with a change recorder; logs the changes once it committed. With
    /// `thing`, the body changes only that thing's records (a device's report), which the store may run beside
    /// other things' (OTAStore.write(thing:)).
    func write<T: Sendable>(
        thing: String? = nil, progress: ProgressReport? = nil,
        _ body: @Sendable (any StoreWriter, ExecutionChanges) throws -> T
    ) async throws -> T {
        let transaction: @Sendable (any StoreWriter) throws -> (T, UncheckedChanges) = { writer in
            let changes = ExecutionChanges()
            return (try body(writer, changes), UncheckedChanges(changes))
        }
        let (result, changes) =
            if let thing { try await store.write(thing: thing, progress: progress, transaction) } else {
                try await store.write(transaction)
            }
        changes.value.log(to: logger)
        changes.value.count(in: metrics)
        return result
    }

    public func setNotifyNextSink(_ sink: @escaping NotifyNextSink) {
        self.sink.withLock { $0 = sink }
    }

    public func setNextChangeObserver(_ observer: @escaping @Sendable ([ClusterEvent.NextExecution]) async -> Void) {
        nextObserver.withLock { $0 = observer }
    }

    /// Sends a thing the notify-next another instance committed, if its next execution is still that one,
    /// unchanged. One that moved on since (the device started it, say) was evidently received: sending it again
    /// would hand a device in its self-test its own job a second time, which it must refuse.
    public func renotify(_ announced: ClusterEvent.NextExecution) async throws {
        guard let sink = sink.withLock({ $0 }) else { return }
        let thing = announced.thing
        let next = try await store.read { reader in try Self.next(for: thing, in: reader) }
        guard announced.matches(next) else { return }
        let execution = try await next.asyncMap { try await message($0, includeDocument: true) }
        sink(thing, jobExecutionResponse(clientToken: nil, timestamp: now(), execution: execution))
    }

    // MARK: Device requests

    /// DescribeJobExecution `$next`: IN_PROGRESS first, then the oldest QUEUED.
    public func describeNext(thing: String) async throws -> JobExecutionMessage? {
        let execution = try await store.read { reader in try Self.next(for: thing, in: reader) }
        guard let execution else { return nil }
        return try await message(execution, includeDocument: true)
    }

    /// DescribeJobExecution for a named job; ResourceNotFound when the thing has no such execution.
    public func describe(thing: String, jobID: String, executionNumber: Int64?, includeDocument: Bool) async throws
        -> JobExecutionMessage
    {
        let execution = try await store.read { reader -> JobExecution? in
            guard let latest = try reader.execution(jobID: jobID, thing: thing) else { return nil }
            if let executionNumber, executionNumber != latest.executionNumber { return nil }
            return latest
        }
        guard let execution else {
            throw JobsRequestError(.resourceNotFound, "no execution of job \(jobID) for thing \(thing)")
        }
        return try await message(execution, includeDocument: includeDocument)
    }

    /// GetPendingJobExecutions: IN_PROGRESS and QUEUED executions in queue order.
    public func pending(thing: String) async throws -> [JobExecution] {
        try await store.read { reader in try reader.executions(thing: thing).filter { !$0.status.isTerminal } }
    }

    /// StartNextPendingJobExecution: the next execution, moved QUEUED → IN_PROGRESS with the given details.
    public func startNext(thing: String, statusDetails: JSONObject?, stepTimeoutMinutes: Int64?) async throws
        -> JobExecutionMessage?
    {
        let time = now()
        let started = try await write(thing: thing) { writer, changes -> JobExecution? in
            guard let next = try Self.next(for: thing, in: writer) else { return nil }
            guard next.status == .queued else { return next }
            let job = try writer.job(id: next.jobID)
            let moved = ExecutionTransitions.applyDeviceUpdate(
                next, status: .inProgress, statusDetails: statusDetails, now: time,
                inProgressTimeoutMinutes: job?.inProgressTimeoutMinutes, stepTimeoutMinutes: stepTimeoutMinutes)
            guard try changes.replace(moved, was: next, in: writer) else {
                throw JobsRequestError(.internalError, "the execution changed concurrently")
            }
            return moved
        }
        guard let started else { return nil }
        noteProgressState(of: started)
        return try await message(started, includeDocument: true)
    }

    /// What an accepted UpdateJobExecution answers with.
    public struct UpdateOutcome: Sendable {
        public var execution: JobExecutionMessage
        public var includeState: Bool
        public var includeDocument: Bool
    }

    /// UpdateJobExecution from a device.
    public func update(thing: String, jobID: String, request: UpdateJobExecutionRequest) async throws -> UpdateOutcome {
        let time = now()
        // A plain progress report (most of what devices send) on an execution in progress: one store call, which the
        // store may make together with other devices' (OTAStore.write(thing:progress:)). Any other case, or an
        // execution not in progress, takes the checked path below, which says why it refuses.
        let progress =
            request.isPlainProgressReport
            ? ProgressReport(
                jobID: jobID, thing: thing, statusDetails: request.statusDetails, time: time,
                inProgressTimeoutMinutes: try await inProgressTimeout(of: jobID)) : nil
        let (updated, nextChanges) = try await write(thing: thing, progress: progress) {
            writer, changes -> (JobExecution, [NextChange]) in
            if let progress, let updated = try writer.recordProgress(progress) { return (updated, []) }
            // The thing's latest execution of each job, read once: the one reported on is among them, and so is
            // what decides the thing's next execution before and after the update, which changes that one alone.
            let latest = try writer.executions(thing: thing)
            guard let current = latest.first(where: { $0.jobID == jobID }),
                request.executionNumber == nil || request.executionNumber == current.executionNumber
            else { throw JobsRequestError(.resourceNotFound, "no execution of job \(jobID) for thing \(thing)") }
            let updated = try self.apply(request, to: current, at: time, in: writer, changes: changes)
            let before = Self.next(among: latest)
            let after = Self.next(among: latest.map { $0.jobID == jobID ? updated : $0 })
            guard before?.jobID != after?.jobID || before?.executionNumber != after?.executionNumber else {
                return (updated, [])
            }
            return (updated, [NextChange(thing: thing, next: after)])
        }
        noteProgressState(of: updated)
        await deliver(nextChanges)
        return UpdateOutcome(
            execution: try await message(updated, includeDocument: request.includeJobDocument),
            includeState: request.includeJobExecutionState, includeDocument: request.includeJobDocument)
    }

    /// A device's update of `current`, checked (expected version, allowed transition) and stored.
    private func apply(
        _ request: UpdateJobExecutionRequest, to current: JobExecution, at time: Int64, in writer: any StoreWriter,
        changes: ExecutionChanges
    ) throws -> JobExecution {
        if let expected = request.expectedVersion, expected != current.versionNumber {
            throw JobsUpdateRejection(
                error: JobsRequestError(
                    .versionMismatch, "expected version \(expected), the execution is at \(current.versionNumber)"),
                state: current)
        }
        guard ExecutionTransitions.deviceMayMove(from: current.status, to: request.status) else {
            throw JobsUpdateRejection(
                error: JobsRequestError(
                    .invalidStateTransition,
                    "cannot update the execution from \(current.status.rawValue) to \(request.status.rawValue)"),
                state: current)
        }
        let next = ExecutionTransitions.applyDeviceUpdate(
            current, status: request.status, statusDetails: request.statusDetails, now: time,
            inProgressTimeoutMinutes: try inProgressTimeout(of: current.jobID, in: writer),
            stepTimeoutMinutes: request.status == .inProgress ? request.stepTimeoutInMinutes : nil)
        guard try changes.replace(next, was: current, in: writer) else {
            throw JobsRequestError(.internalError, "the execution changed concurrently")
        }
        return next
    }

    /// A job's in-progress timeout when it is remembered (`.some(nil)`: the job has none); nil when it is not.
    func knownInProgressTimeout(of jobID: String) -> Int?? {
        inProgressTimeouts.withLock { $0[jobID] }
    }

    /// `inProgressTimeout(of:in:)` before a transaction: from what is remembered, or read on its own.
    func inProgressTimeout(of jobID: String) async throws -> Int? {
        if let known = inProgressTimeouts.withLock({ $0[jobID] }) { return known }
        return try await store.read { reader in try self.inProgressTimeout(of: jobID, in: reader) }
    }

    /// A job's in-progress timeout, set when the job is created and never changed: read once per job. Only a job
    /// that exists is remembered: a device may name any job in a topic, even one an operator creates later.
    private func inProgressTimeout(of jobID: String, in reader: any StoreReader) throws -> Int? {
        if let known = inProgressTimeouts.withLock({ $0[jobID] }) { return known }
        guard let job = try reader.job(id: jobID) else { return nil }
        inProgressTimeouts.withLock { $0[jobID] = job.inProgressTimeoutMinutes }
        return job.inProgressTimeoutMinutes
    }

    // MARK: Shared helpers

    /// The execution a device works on next: IN_PROGRESS first, then QUEUED, each in queue order.
    static func next(for thing: String, in reader: any StoreReader) throws -> JobExecution? {
        next(among: try reader.executions(thing: thing))
    }

    /// The next of a thing's latest executions (one per job, in queue order).
    static func next(among executions: [JobExecution]) -> JobExecution? {
        let open = executions.filter { !$0.status.isTerminal }
        return open.first { $0.status == .inProgress } ?? open.first
    }

    /// A change of a thing's next execution, to announce on notify-next.
    struct NextChange: Sendable {
        let thing: String
        let next: JobExecution?
    }

    /// Runs `change` and reports the things whose next execution (job and execution number) is no longer the same.
    /// `change` is handed the things' latest executions as they were before it (one read for all of them).
    static func trackingNext<T>(
        of things: Set<String>, in writer: any StoreWriter, _ change: ([String: [JobExecution]]) throws -> T
    ) throws -> (T, [NextChange]) {
        let sorted = things.sorted()
        let before = try writer.executions(things: sorted)
        let result = try change(before)
        let after = try writer.executions(things: sorted)
        var changes: [NextChange] = []
        for thing in sorted {
            let (previous, now) = (next(among: before[thing] ?? []), next(among: after[thing] ?? []))
            if previous?.jobID != now?.jobID || previous?.executionNumber != now?.executionNumber {
                changes.append(NextChange(thing: thing, next: now))
            }
        }
        return (result, changes)
    }

    /// Sends notify-next for each change, after the transaction committed.
    func deliver(_ changes: [NextChange]) async {
        guard !changes.isEmpty else { return }
        if let sink = sink.withLock({ $0 }) {
            let time = now()
            for change in changes {
                let execution = try? await change.next.asyncMap { try await message($0, includeDocument: true) }
                sink(change.thing, jobExecutionResponse(clientToken: nil, timestamp: time, execution: execution ?? nil))
            }
        }
        await nextObserver.withLock({ $0 })?(changes.map { ClusterEvent.NextExecution(thing: $0.thing, next: $0.next) })
    }

    /// The wire form of an execution, with the job document parsed once per job and cached; an HTTP document gets
    /// a fresh data URL each time.
    func message(_ execution: JobExecution, includeDocument: Bool) async throws -> JobExecutionMessage {
        var document: JSONValue?
        if includeDocument {
            var delivered = documents.withLock { $0[execution.jobID] }
            if delivered == nil {
                let loaded = try await loadDocument(jobID: execution.jobID)
                documents.withLock { $0[execution.jobID] = loaded }
                delivered = loaded
            }
            document = try delivered?.render(for: execution.thingName, at: now(), urls: dataURLs)
        }
        var details: JSONObject?
        if let text = execution.statusDetails { details = try JSONParser.parse(text).objectValue }
        return JobExecutionMessage(
            jobID: execution.jobID, thingName: execution.thingName, status: execution.status, statusDetails: details,
            queuedAt: execution.queuedAt, startedAt: execution.startedAt, lastUpdatedAt: execution.lastUpdatedAt,
            versionNumber: execution.versionNumber, executionNumber: execution.executionNumber, jobDocument: document)
    }
}

extension JobEngine {
    private func loadDocument(jobID: String) async throws -> DeliveredDocument {
        let (job, file) = try await store.read { reader -> (Job?, StoredFile?) in
            let job = try reader.job(id: jobID)
            return (job, try job.flatMap { try reader.file(id: $0.fileID) })
        }
        guard let job else { throw JobsRequestError(.internalError, "job \(jobID) is missing") }
        return try DeliveredDocument(stored: JSONParser.parse(job.document), file: file)
    }
}

/// A rejection that carries the execution's state, as VersionMismatch and InvalidStateTransition do on AWS.
public struct JobsUpdateRejection: Error {
    public let error: JobsRequestError
    public let state: JobExecution
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

/// Carries a transaction's recorder out of the store's write closure; nothing else touches it by then.
struct UncheckedChanges: @unchecked Sendable {
    let value: ExecutionChanges
    init(_ value: ExecutionChanges) { self.value = value }
}
