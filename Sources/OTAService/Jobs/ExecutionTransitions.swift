import OTAWire

// The job execution state machine (aws-ota-wire.md §3.5) as pure functions: who may move an execution from which
// state to which. The engine applies them inside a store transaction.

public enum ExecutionTransitions {
    /// A device's UpdateJobExecution or start-next. QUEUED may go straight to a terminal device state, because
    /// the FreeRTOS agent's first IN_PROGRESS report is a QoS 0 progress message that can be lost.
    public static func deviceMayMove(from current: JobExecutionStatus, to requested: JobExecutionStatus) -> Bool {
        guard requested.isDeviceSettable else { return false }
        return current == .queued || current == .inProgress
    }

    /// Service-side moves: rollout cancel, forced cancel, timeout, removal from the target group.
    public static func serviceMayMove(
        from current: JobExecutionStatus, to requested: JobExecutionStatus, force: Bool = false
    ) -> Bool {
        switch (current, requested) {
        case (.queued, .canceled), (.queued, .removed), (.inProgress, .removed): return true
        case (.inProgress, .canceled): return force
        case (.inProgress, .timedOut): return true
        default: return false
        }
    }

    /// Applies a service-side move (timeout, cancel, removal): statusDetails are kept, the version bumps.
    public static func applyServiceMove(_ execution: JobExecution, to status: JobExecutionStatus, now: Int64)
        -> JobExecution
    {
        var next = execution
        next.status = status
        next.versionNumber += 1
        next.lastUpdatedAt = now
        next.timeoutAt = nil
        return next
    }

    /// Applies a device update to an execution: bumps the version, stamps times, replaces statusDetails when
    /// given (replace rather than merge: agents always resend the keys they need), arms the timers.
    public static func applyDeviceUpdate(
        _ execution: JobExecution, status: JobExecutionStatus, statusDetails: JSONObject?, now: Int64,
        inProgressTimeoutMinutes: Int?, stepTimeoutMinutes: Int64?
    ) -> JobExecution {
        var next = execution
        next.status = status
        if let statusDetails { next.statusDetails = JSONValue.object(statusDetails).serializedText }
        next.versionNumber += 1
        next.lastUpdatedAt = now
        if status == .inProgress {
            if next.startedAt == nil { next.startedAt = now }
            next.timeoutAt = timeout(
                startedAt: next.startedAt ?? now, now: now, inProgressMinutes: inProgressTimeoutMinutes,
                stepMinutes: stepTimeoutMinutes, previous: execution.status == .inProgress ? execution.timeoutAt : nil)
        } else if status.isTerminal {
            next.timeoutAt = nil
        }
        return next
    }

    /// The in-progress timer runs from the start; a step timer (from the device) replaces any previous step timer
    /// but can only shorten the in-progress bound.
    static func timeout(
        startedAt: Int64, now: Int64, inProgressMinutes: Int?, stepMinutes: Int64?, previous: Int64?
    ) -> Int64? {
        let bound = inProgressMinutes.map { startedAt + Int64($0) * 60 }
        guard let stepMinutes else { return previous ?? bound }
        let step = now + stepMinutes * 60
        guard let bound else { return step }
        return min(step, bound)
    }
}

extension UpdateJobExecutionRequest {
    /// IN_PROGRESS with new details and nothing to check or arm (no expected version, execution number or step
    /// timer): on an execution already in progress, `applyDeviceUpdate` only stores the details and bumps the
    /// version, which `StoreWriter.recordProgress` does in one call.
    var isPlainProgressReport: Bool {
        status == .inProgress && expectedVersion == nil && executionNumber == nil && stepTimeoutInMinutes == nil
    }
}
