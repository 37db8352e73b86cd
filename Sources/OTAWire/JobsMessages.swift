// Jobs MQTT API messages (aws-ota-wire.md §3): execution states, the execution object in `$next/get/accepted`
// and notify-next, and rejections. Requests from devices are read in JobsRequests.swift.

public enum JobExecutionStatus: String, Sendable, Equatable, CaseIterable {
    case queued = "QUEUED"
    case inProgress = "IN_PROGRESS"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case timedOut = "TIMED_OUT"
    case rejected = "REJECTED"
    case removed = "REMOVED"
    case canceled = "CANCELED"

    public var isTerminal: Bool { self != .queued && self != .inProgress }

    /// States a device may report in UpdateJobExecution.
    public var isDeviceSettable: Bool {
        self == .inProgress || self == .succeeded || self == .failed || self == .rejected
    }
}

/// Codes of `…/rejected` responses (§3.4).
public enum JobsErrorCode: String, Sendable, Equatable {
    case invalidTopic = "InvalidTopic"
    case invalidJSON = "InvalidJson"
    case invalidRequest = "InvalidRequest"
    case invalidStateTransition = "InvalidStateTransition"
    case resourceNotFound = "ResourceNotFound"
    case versionMismatch = "VersionMismatch"
    case internalError = "InternalError"
    case requestThrottled = "RequestThrottled"
    case terminalStateReached = "TerminalStateReached"
}

/// A job execution as the device sees it in `execution`.
public struct JobExecutionMessage: Equatable, Sendable {
    public var jobID: String
    public var thingName: String
    public var status: JobExecutionStatus
    public var statusDetails: JSONObject?
    public var queuedAt: Int64
    public var startedAt: Int64?
    public var lastUpdatedAt: Int64
    public var versionNumber: Int64
    public var executionNumber: Int64
    public var jobDocument: JSONValue?

    public init(
        jobID: String, thingName: String, status: JobExecutionStatus, statusDetails: JSONObject?, queuedAt: Int64,
        startedAt: Int64?, lastUpdatedAt: Int64, versionNumber: Int64, executionNumber: Int64, jobDocument: JSONValue?
    ) {
        self.jobID = jobID
        self.thingName = thingName
        self.status = status
        self.statusDetails = statusDetails
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.lastUpdatedAt = lastUpdatedAt
        self.versionNumber = versionNumber
        self.executionNumber = executionNumber
        self.jobDocument = jobDocument
    }

    public var json: JSONValue {
        var object = JSONObject([
            JSONMember("jobId", .string(jobID)), JSONMember("thingName", .string(thingName)),
            JSONMember("status", .string(status.rawValue)),
        ])
        if let statusDetails, !statusDetails.members.isEmpty { object.set("statusDetails", .object(statusDetails)) }
        object.set("queuedAt", .number(String(queuedAt)))
        if let startedAt { object.set("startedAt", .number(String(startedAt))) }
        object.set("lastUpdatedAt", .number(String(lastUpdatedAt)))
        object.set("versionNumber", .number(String(versionNumber)))
        object.set("executionNumber", .number(String(executionNumber)))
        if let jobDocument { object.set("jobDocument", jobDocument) }
        return .object(object)
    }

    /// `execution.executionState` form used by update responses: status, statusDetails, versionNumber.
    public var executionStateJSON: JSONValue {
        var object = JSONObject([JSONMember("status", .string(status.rawValue))])
        if let statusDetails { object.set("statusDetails", .object(statusDetails)) }
        object.set("versionNumber", .number(String(versionNumber)))
        return .object(object)
    }
}

/// `{"clientToken":…,"timestamp":…,"execution":{…}}` for `$next/get/accepted`, `<J>/get/accepted`,
/// `start-next/accepted`; notify-next is the same without a client token. No execution ⇒ no `execution` key.
public func jobExecutionResponse(clientToken: String?, timestamp: Int64, execution: JobExecutionMessage?) -> [UInt8] {
    var object = JSONObject()
    if let clientToken { object.set("clientToken", .string(clientToken)) }
    object.set("timestamp", .number(String(timestamp)))
    if let execution { object.set("execution", execution.json) }
    return JSONValue.object(object).serialized
}

/// `{"code":…,"message":…,"clientToken":…,"timestamp":…,"executionState":{…}}` on `…/rejected`.
public func jobsRejection(
    code: JobsErrorCode, message: String, clientToken: String?, timestamp: Int64, executionState: JSONValue? = nil
) -> [UInt8] {
    var object = JSONObject([JSONMember("code", .string(code.rawValue)), JSONMember("message", .string(message))])
    if let clientToken { object.set("clientToken", .string(clientToken)) }
    object.set("timestamp", .number(String(timestamp)))
    if let executionState { object.set("executionState", executionState) }
    return JSONValue.object(object).serialized
}

public struct JobsRequestError: Error, Equatable, CustomStringConvertible {
    public let code: JobsErrorCode
    public let message: String

    public init(_ code: JobsErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
