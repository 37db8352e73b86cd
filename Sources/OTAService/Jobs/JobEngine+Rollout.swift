import OTAWire

// The periodic part of the engine: rollout releases, abort criteria, timeouts, snapshot completion, and the
// continuous-job reaction to group membership changes.

extension JobEngine {
    /// What one tick did, for logs and tests.
    public struct TickReport: Sendable, Equatable {
        public var released = 0
        public var timedOut = 0
        public var aborted: [String] = []
        public var completed: [String] = []
    }

    /// Runs every active job once: time out overdue executions, evaluate abort criteria, release targets at the
    /// rollout rate, complete finished snapshot jobs. Called every second by the service and directly by tests.
    @discardableResult
    public func tick() async throws -> TickReport {
        let time = now()
        let (report, nextChanges) = try await write { writer, changes -> (TickReport, [NextChange]) in
            var report = TickReport()
            var nextChanges: [NextChange] = []
            let overdue = try writer.timedOutExecutions(at: time)
            let (_, timeoutChanges) = try Self.trackingNext(of: Set(overdue.map(\.thingName)), in: writer) { _ in
                for execution in overdue {
                    let next = ExecutionTransitions.applyServiceMove(execution, to: .timedOut, now: time)
                    if try changes.replace(next, was: execution, in: writer) { report.timedOut += 1 }
                }
            }
            nextChanges += timeoutChanges
            for job in try writer.activeJobs() {
                nextChanges += try Self.advance(job, at: time, in: writer, changes: changes, report: &report)
            }
            return (report, nextChanges)
        }
        await deliver(nextChanges)
        return report
    }

    private static func advance(
        _ job: Job, at time: Int64, in writer: any StoreWriter, changes: ExecutionChanges, report: inout TickReport
    ) throws -> [NextChange] {
        let tally = try writer.executionTally(jobID: job.id, queuedAfter: time - 60)
        let counts = tally.counts
        if let criterion = RolloutPolicy.abortCriterionMet(job.abortCriteria, counts: counts) {
            report.aborted.append(job.id)
            let reason =
                "abort: \(criterion.failureType.rawValue) reached \(criterion.thresholdPercentage)% "
                + "of \(counts.executed) executed things"
            return try cancel(job, force: false, reason: reason, at: time, in: writer, changes: changes)
        }
        var nextChanges: [NextChange] = []
        var releasedNow = 0
        let allowance = RolloutPolicy.allowance(job.rollout, counts: counts)
        if allowance > 0 {
            let things = try writer.pendingTargets(jobID: job.id, limit: allowance)
            releasedNow = things.count
            let (_, released) = try trackingNext(of: Set(things), in: writer) { latest in
                // All of them in one insert: numbered from what was just read, not read again thing by thing.
                let queued = things.map { thing in
                    let previous = latest[thing]?.first { $0.jobID == job.id }?.executionNumber ?? 0
                    return newExecution(of: job.id, for: thing, number: previous + 1, at: time)
                }
                try changes.insert(queued, in: writer)
                try writer.removePendingTargets(jobID: job.id, things: things)
            }
            report.released += things.count
            nextChanges += released
        }
        // Complete when nothing is left to release and every execution has ended (those released just now are
        // open, and nothing else changed since the tally: this transaction holds the write lock).
        if job.selection == .snapshot, releasedNow == 0, tally.open == 0,
            try writer.pendingTargetCount(jobID: job.id) == 0
        {
            var completed = job
            completed.status = .completed
            completed.completedAt = time
            try writer.save(completed)
            report.completed.append(job.id)
        }
        return nextChanges
    }

    /// A new QUEUED execution, numbered after the thing's previous ones for this job.
    @discardableResult
    static func queueExecution(
        of jobID: String, for thing: String, at time: Int64, in writer: any StoreWriter, changes: ExecutionChanges
    ) throws -> JobExecution {
        let number = (try writer.execution(jobID: jobID, thing: thing)?.executionNumber ?? 0) + 1
        return try changes.insert(newExecution(of: jobID, for: thing, number: number, at: time), in: writer)
    }

    private static func newExecution(of jobID: String, for thing: String, number: Int64, at time: Int64) -> JobExecution
    {
        JobExecution(
            jobID: jobID, thingName: thing, executionNumber: number, status: .queued, statusDetails: nil,
            queuedAt: time, startedAt: nil, lastUpdatedAt: time, versionNumber: 1, timeoutAt: nil, sequence: 0)
    }

    /// Cancels a job: QUEUED executions become CANCELED (IN_PROGRESS ones too when forced), unreleased targets
    /// are dropped, and the job keeps the reason.
    static func cancel(
        _ job: Job, force: Bool, reason: String, at time: Int64, in writer: any StoreWriter, changes: ExecutionChanges
    ) throws -> [NextChange] {
        let executions = try writer.executions(jobID: job.id)
        let (_, nextChanges) = try trackingNext(of: Set(executions.map(\.thingName)), in: writer) { _ in
            for execution in executions
            where ExecutionTransitions.serviceMayMove(from: execution.status, to: .canceled, force: force) {
                let next = ExecutionTransitions.applyServiceMove(execution, to: .canceled, now: time)
                _ = try changes.replace(next, was: execution, in: writer)
            }
            try writer.removeAllPendingTargets(jobID: job.id)
            var canceled = job
            canceled.status = .canceled
            canceled.reason = reason
            canceled.completedAt = time
            try writer.save(canceled)
        }
        return nextChanges
    }

    /// Cancels a job on the user's request.
    public func cancel(jobID: String, force: Bool, reason: String = "canceled by the user") async throws {
        let time = now()
        let nextChanges = try await write { writer, changes -> [NextChange] in
            guard let job = try writer.job(id: jobID) else { throw OTAServiceError.notFound("job \(jobID)") }
            guard job.status == .inProgress || force else {
                throw OTAServiceError.conflict("job \(jobID) is already \(job.status.rawValue)")
            }
            return try Self.cancel(job, force: force, reason: reason, at: time, in: writer, changes: changes)
        }
        await deliver(nextChanges)
    }

    /// A thing's group membership changed (added or removed statically, attributes changed, new thing): continuous
    /// jobs give it an execution when it joins a target group and has none open (new and re-provisioned devices),
    /// bypassing the rollout rate as AWS does; leaving every target removes its open execution (REMOVED).
    public func membershipChanged(thing: String, before: Set<String>, after: Set<String>) async throws {
        guard before != after else { return }
        let time = now()
        let nextChanges = try await write { writer, changes -> [NextChange] in
            let (_, nextChanges) = try Self.trackingNext(of: [thing], in: writer) { _ in
                for job in try writer.activeJobs() where job.selection == .continuous {
                    let groups = Set(job.targets.compactMap { if case .group(let name) = $0 { name } else { nil } })
                    let direct = job.targets.contains(.thing(thing))
                    let wasTarget = direct || !groups.isDisjoint(with: before)
                    let isTarget = direct || !groups.isDisjoint(with: after)
                    let current = try writer.execution(jobID: job.id, thing: thing)
                    if isTarget && !wasTarget && (current == nil || current!.status.isTerminal) {
                        try writer.removePendingTarget(jobID: job.id, thing: thing)
                        try Self.queueExecution(of: job.id, for: thing, at: time, in: writer, changes: changes)
                    } else if wasTarget && !isTarget {
                        try writer.removePendingTarget(jobID: job.id, thing: thing)
                        if let current, ExecutionTransitions.serviceMayMove(from: current.status, to: .removed) {
                            let removed = ExecutionTransitions.applyServiceMove(current, to: .removed, now: time)
                            _ = try changes.replace(removed, was: current, in: writer)
                        }
                    }
                }
            }
            return nextChanges
        }
        await deliver(nextChanges)
    }
}
