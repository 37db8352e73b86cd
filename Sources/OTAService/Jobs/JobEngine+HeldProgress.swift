import OTAWire

// Plain progress reports a device sent at QoS 0, held and recorded together (ProgressLedger.swift).

extension JobEngine {
    /// Holds a plain progress report (`isPlainProgressReport`, asking for neither state nor document) to be recorded
    /// with others within `ProgressLedger.interval`; `answer` is called once it is recorded, or refused.
    public func holdProgress(
        thing: String, jobID: String, request: UpdateJobExecutionRequest,
        answer: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) async throws {
        holdProgress(
            thing: thing, jobID: jobID, request: request,
            inProgressTimeoutMinutes: try await inProgressTimeout(of: jobID), answer: answer)
    }

    /// `holdProgress` with the job's in-progress timeout known already (`knownInProgressTimeout`).
    public func holdProgress(
        thing: String, jobID: String, request: UpdateJobExecutionRequest, inProgressTimeoutMinutes: Int?,
        answer: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let report = ProgressReport(
            jobID: jobID, thing: thing, statusDetails: request.statusDetails, time: now(),
            inProgressTimeoutMinutes: inProgressTimeoutMinutes)
        progressLedger.hold(ProgressLedger.Held(report: report, request: request, answer: answer))
    }

    /// Records what is held of `thing` before anything else of it is handled (its reports keep their order).
    public func settleProgress(of thing: String) async {
        await progressLedger.settle(thing: thing)
    }

    /// Records everything held (the service stopping).
    public func flushHeldProgress() async {
        await progressLedger.flushAll()
    }

    /// Records a batch in one store call: of reports on the same execution, the last. A report whose execution was
    /// not in progress changed nothing, and takes the checked path: it starts a QUEUED execution (the agent's first
    /// report) or is refused with the reason (a canceled one).
    func recordHeld(_ batch: [ProgressLedger.Held]) async {
        var keys: [String] = []
        var groups: [String: [ProgressLedger.Held]] = [:]
        for held in batch {
            let key = held.report.thing + "\u{0}" + held.report.jobID
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
        for (key, result) in zip(keys, results) {
            let group = groups[key]!
            var outcome: Result<Void, any Error> = .success(())
            if result == nil, let last = group.last {
                do {
                    _ = try await update(thing: last.report.thing, jobID: last.report.jobID, request: last.request)
                } catch {
                    outcome = .failure(error)
                }
            }
            for held in group { held.answer(outcome) }
        }
    }
}
