import OTAWire

// A progress report, read and replaced: what SQLite does, in process, where a statement costs microseconds.
// PostgresTransaction does it in one UPDATE … RETURNING, the same change in SQL; StoreContractTests checks that
// both stores store what ExecutionTransitions.applyDeviceUpdate makes.

extension StoreWriter {
    func recordProgress(
        jobID: String, thing: String, statusDetails: JSONObject?, at time: Int64, inProgressTimeoutMinutes: Int?
    ) throws -> JobExecution? {
        // A report older than the execution's last change is not recorded (a held report that another instance's
        // newer one overtook); the engine decides what it answers.
        guard let current = try execution(jobID: jobID, thing: thing), current.status == .inProgress,
            current.lastUpdatedAt <= time
        else { return nil }
        let next = ExecutionTransitions.applyDeviceUpdate(
            current, status: .inProgress, statusDetails: statusDetails, now: time,
            inProgressTimeoutMinutes: inProgressTimeoutMinutes, stepTimeoutMinutes: nil)
        guard try replace(next, expectedVersion: current.versionNumber) else {
            throw StoreError.conflict("the execution changed while its progress was stored")
        }
        return next
    }
}
