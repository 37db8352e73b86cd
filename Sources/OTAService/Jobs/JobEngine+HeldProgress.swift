import OTAWire

// Plain progress reports a device sent at QoS 0, held and recorded together (ProgressLedger.swift).

extension JobEngine {
    /// Holds a plain progress report (`isPlainProgressReport`, asking for neither state nor document) on an
    /// execution this engine last recorded in progress, to be recorded with others within `ProgressLedger.interval`;
    /// `answer` is called once it is recorded, or refused. False when it is not held (the caller updates at once).
    public func holdProgress(
        thing: String, jobID: String, request: UpdateJobExecutionRequest,
        answer: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) async throws -> Bool {
        // Checked before the timeout is looked up, which may read the store.
        guard isKnownInProgress(thing, jobID) else { return false }
        hold(
            thing: thing, jobID: jobID, request: request,
            inProgressTimeoutMinutes: try await inProgressTimeout(of: jobID), answer: answer)
        return true
    }

    /// `holdProgress` with the job's in-progress timeout known already (`knownInProgressTimeout`).
    public func holdProgress(
        thing: String, jobID: String, request: UpdateJobExecutionRequest, inProgressTimeoutMinutes: Int?,
        answer: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) -> Bool {
        guard isKnownInProgress(thing, jobID) else { return false }
        hold(
            thing: thing, jobID: jobID, request: request, inProgressTimeoutMinutes: inProgressTimeoutMinutes,
            answer: answer)
        return true
    }

    /// Hands the report to the ledger (its execution was checked to be known in progress).
    private func hold(
        thing: String, jobID: String, request: UpdateJobExecutionRequest, inProgressTimeoutMinutes: Int?,
        answer: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let report = ProgressReport(
            jobID: jobID, thing: thing, statusDetails: request.statusDetails, time: now(),
            inProgressTimeoutMinutes: inProgressTimeoutMinutes)
        progressLedger.hold(ProgressLedger.Held(report: report, request: request, answer: answer))
    }

    static func executionKey(_ thing: String, _ jobID: String) -> String { thing + "\u{0}" + jobID }

    private func isKnownInProgress(_ thing: String, _ jobID: String) -> Bool {
        knownInProgress.withLock { $0.contains(Self.executionKey(thing, jobID)) }
    }

    /// Remembers whether `execution` is in progress, as just recorded (at most a million remembered: beyond, they
    /// start again from none, and reports are recorded at once until their execution is seen in progress again).
    func noteProgressState(of execution: JobExecution) {
        let key = Self.executionKey(execution.thingName, execution.jobID)
        knownInProgress.withLock { known in
            guard execution.status == .inProgress else {
                known.remove(key)
                return
            }
            if known.count >= 1_000_000 { known.removeAll() }
            known.insert(key)
        }
    }

    /// Records what is held of `thing` before anything else of it is handled (its reports keep their order).
    public func settleProgress(of thing: String) async {
        await progressLedger.settle(thing: thing)
    }

    /// Records everything held and holds nothing more (the service stopping: later reports are refused).
    public func closeHeldProgress() async {
        await progressLedger.close()
    }

    /// Records a batch in one store call: of reports on the same execution, the last. A report the store did not
    /// record found its execution not in progress, or changed since it was sent (on another instance, where the
    /// device went on): a newer change supersedes it, and it is answered as accepted, changing nothing; otherwise it
    /// takes the checked path, which starts a QUEUED execution (the agent's first report) or refuses it with the
    /// reason (a canceled execution, an unknown job). Those run together, so the group commit gathers them.
    func recordHeld(_ batch: [ProgressLedger.Held]) async {
        var keys: [String] = []
        var groups: [String: [ProgressLedger.Held]] = [:]
        for held in batch {
            let key = Self.executionKey(held.report.thing, held.report.jobID)
            if groups[key] == nil { keys.append(key) }
            groups[key, default: []].append(held)
        }
        let latest = keys.map { groups[$0]!.last! }
        let results: [JobExecution?]
        do {
            results = try await store.recordProgress(latest.map(\.report))
        } catch {
            logger.warning("progress reports not recorded", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            for held in batch { held.answer(.failure(error)) }
            return
        }
        await withTaskGroup(of: Void.self) { tasks in
            for (key, result) in zip(keys, results) {
                let group = groups[key]!
                guard result == nil else {
                    for held in group { held.answer(.success(())) }
                    continue
                }
                let last = group.last!
                knownInProgress.withLock { _ = $0.remove(key) }
                tasks.addTask {
                    let outcome = await self.checkedProgress(last)
                    for held in group { held.answer(outcome) }
                }
            }
        }
    }

    private func checkedProgress(_ held: ProgressLedger.Held) async -> Result<Void, any Error> {
        let report = held.report
        do {
            let current = try await store.read { try $0.execution(jobID: report.jobID, thing: report.thing) }
            if let current, current.lastUpdatedAt > report.time { return .success(()) }
            _ = try await update(thing: report.thing, jobID: report.jobID, request: held.request)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
