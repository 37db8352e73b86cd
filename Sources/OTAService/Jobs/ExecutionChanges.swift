import Logging
import OTAWire

// The status changes one store transaction makes to job executions, written through here so that each is logged
// once the transaction committed: a change in a rolled-back transaction never happened, and a progress report
// (same status) is no change. Without --verbose this is the service's one line per execution state change.

final class ExecutionChanges {
    struct Change {
        let previous: JobExecutionStatus?
        let execution: JobExecution
    }

    private(set) var changes: [Change] = []

    /// `writer.replace`, recording a status change.
    func replace(_ next: JobExecution, was current: JobExecution, in writer: any StoreWriter) throws -> Bool {
        guard try writer.replace(next, expectedVersion: current.versionNumber) else { return false }
        if next.status != current.status { changes.append(Change(previous: current.status, execution: next)) }
        return true
    }

    /// `writer.insert` of a new execution (it starts QUEUED).
    func insert(_ execution: JobExecution, in writer: any StoreWriter) throws -> JobExecution {
        let inserted = try writer.insert(execution)
        changes.append(Change(previous: nil, execution: inserted))
        return inserted
    }

    /// `writer.insert` of new executions, in one call.
    @discardableResult
    func insert(_ executions: [JobExecution], in writer: any StoreWriter) throws -> [JobExecution] {
        let inserted = try writer.insert(executions)
        changes += inserted.map { Change(previous: nil, execution: $0) }
        return inserted
    }

    /// Each change by the status it reached; a FAILED that a device reported for a signature check, apart.
    func count(in metrics: ServiceMetrics) {
        for change in changes {
            metrics.executionChanged(to: change.execution.status)
            if change.execution.status == .failed,
                DeviceFailureReason.isSignatureFailure(change.execution.statusDetails)
            {
                metrics.signatureFailed(.device)
            }
        }
    }

    /// One info line per change: `execution AFR_OTA-x #1 IN_PROGRESS → SUCCEEDED thing=… details=…`.
    func log(to logger: Logger) {
        for change in changes {
            let execution = change.execution
            var metadata: Logger.Metadata = ["thing": "\(execution.thingName)"]
            if let details = execution.statusDetails { metadata["details"] = "\(details)" }
            let transition = "\(change.previous?.rawValue ?? "new") → \(execution.status.rawValue)"
            logger.info(
                "execution \(execution.jobID) #\(execution.executionNumber) \(transition)", metadata: metadata)
        }
    }
}
