import OTAWire

// A device's plain progress report (IN_PROGRESS again, new details, nothing to check) as a value: what
// `StoreWriter.recordProgress` stores. A `write(thing:progress:)` that names one lets the store record it first,
// together with the other reports of its batch (PostgresStore: one statement for them all).

public struct ProgressReport: Sendable, Equatable {
    public var jobID: String
    public var thing: String
    public var statusDetails: JSONObject?
    public var time: Int64
    public var inProgressTimeoutMinutes: Int?

    public init(
        jobID: String, thing: String, statusDetails: JSONObject?, time: Int64, inProgressTimeoutMinutes: Int?
    ) {
        self.jobID = jobID
        self.thing = thing
        self.statusDetails = statusDetails
        self.time = time
        self.inProgressTimeoutMinutes = inProgressTimeoutMinutes
    }
}

extension StoreWriter {
    func recordProgress(_ report: ProgressReport) throws -> JobExecution? {
        try recordProgress(
            jobID: report.jobID, thing: report.thing, statusDetails: report.statusDetails, at: report.time,
            inProgressTimeoutMinutes: report.inProgressTimeoutMinutes)
    }
}
