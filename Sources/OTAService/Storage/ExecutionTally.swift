import OTAWire

/// How a job's latest executions (one per thing) stand: how many are in each status, and how many were queued
/// after a given time. The rollout scheduler needs these figures for every active job on every tick; a count is
/// what it asks for, not the thousands of execution records behind it (which PostgreSQL would have to send, and
/// the leader decode, every second while holding the write lock).
public struct ExecutionTally: Sendable, Equatable {
    public var byStatus: [JobExecutionStatus: Int] = [:]
    public var queuedAfter = 0

    public init(byStatus: [JobExecutionStatus: Int] = [:], queuedAfter: Int = 0) {
        self.byStatus = byStatus
        self.queuedAfter = queuedAfter
    }

    /// Things that have an execution of the job.
    public var total: Int { byStatus.values.reduce(0, +) }
    /// Executions not finished yet (QUEUED or IN_PROGRESS).
    public var open: Int { byStatus.filter { !$0.key.isTerminal }.values.reduce(0, +) }

    /// The figures the rollout rate and the abort criteria read.
    public var counts: JobCounts {
        var counts = JobCounts()
        counts.notified = total
        counts.succeeded = byStatus[.succeeded, default: 0]
        counts.failed = byStatus[.failed, default: 0]
        counts.rejected = byStatus[.rejected, default: 0]
        counts.timedOut = byStatus[.timedOut, default: 0]
        counts.releasedInLastMinute = queuedAfter
        return counts
    }
}
