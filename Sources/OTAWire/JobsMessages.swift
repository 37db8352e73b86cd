// Jobs MQTT API messages (aws-ota-wire.md §3): execution states, the execution object in `$next/get/accepted`
// and notify-next, UpdateJobExecution requests and rejections.

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

/// The common fields of a Jobs request body: client token (opaque, at most 64 bytes).
public func jobsClientToken(in body: JSONValue) throws(JobsRequestError) -> String? {
    guard let token = body["clientToken"] else { return nil }
    guard let text = token.stringValue else { throw JobsRequestError(.invalidRequest, "clientToken must be a string") }
    guard text.utf8.count <= 64 else { throw JobsRequestError(.invalidRequest, "clientToken is longer than 64 bytes") }
    return text
}

/// Parses a Jobs request body: empty means `{}`, otherwise a JSON object.
public func jobsRequestBody(_ payload: [UInt8]) throws(JobsRequestError) -> JSONValue {
    if payload.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return .object(JSONObject()) }
    let value: JSONValue
    do { value = try JSONParser.parse(payload) } catch { throw JobsRequestError(.invalidJSON, error.description) }
    guard value.objectValue != nil else { throw JobsRequestError(.invalidJSON, "the request body is not an object") }
    return value
}

/// UpdateJobExecution (`…/jobs/<J>/update`).
public struct UpdateJobExecutionRequest: Equatable, Sendable {
    public static let maximumStatusDetailKeyBytes = 128
    public static let maximumStatusDetailValueCharacters = 1024

    public var status: JobExecutionStatus
    public var statusDetails: JSONObject?
    public var expectedVersion: Int64?
    public var executionNumber: Int64?
    public var includeJobExecutionState: Bool
    public var includeJobDocument: Bool
    public var stepTimeoutInMinutes: Int64?
    public var clientToken: String?

    public init(parsing body: JSONValue) throws(JobsRequestError) {
        clientToken = try jobsClientToken(in: body)
        guard let statusText = body["status"]?.stringValue else {
            throw JobsRequestError(.invalidRequest, "status is missing or not a string")
        }
        guard let status = JobExecutionStatus(rawValue: statusText), status.isDeviceSettable else {
            throw JobsRequestError(
                .invalidRequest, "status '\(statusText)' is not one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED")
        }
        self.status = status
        if let details = body["statusDetails"] {
            guard let object = details.objectValue else {
                throw JobsRequestError(.invalidRequest, "statusDetails must be an object")
            }
            try Self.validateDetails(object)
            statusDetails = object
        }
        expectedVersion = try Self.integer(body, "expectedVersion")
        executionNumber = try Self.integer(body, "executionNumber")
        stepTimeoutInMinutes = try Self.integer(body, "stepTimeoutInMinutes")
        includeJobExecutionState = try Self.flag(body, "includeJobExecutionState")
        includeJobDocument = try Self.flag(body, "includeJobDocument")
    }

    /// Keys `[a-zA-Z0-9:_-]+` of at most 128 bytes; values strings of 1…1024 characters without control characters.
    public static func validateDetails(_ statusDetails: JSONObject) throws(JobsRequestError) {
        for member in statusDetails.members {
            let key = member.key.utf8
            guard !key.isEmpty, key.count <= maximumStatusDetailKeyBytes,
                key.allSatisfy({ isAlphanumeric($0) || $0 == 0x3A || $0 == 0x5F || $0 == 0x2D })
            else { throw JobsRequestError(.invalidRequest, "statusDetails key '\(member.key)' is not allowed") }
            guard let value = member.value.stringValue else {
                throw JobsRequestError(.invalidRequest, "statusDetails value of '\(member.key)' must be a string")
            }
            guard !value.isEmpty, value.unicodeScalars.count <= maximumStatusDetailValueCharacters,
                !value.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) })
            else { throw JobsRequestError(.invalidRequest, "statusDetails value of '\(member.key)' is not allowed") }
        }
    }

    /// Accepts a JSON number or a numeric string ([JOBSLIB] sends `"expectedVersion":"<n>"`).
    private static func integer(_ body: JSONValue, _ key: String) throws(JobsRequestError) -> Int64? {
        guard let field = body[key] else { return nil }
        let text: String
        switch field {
        case .number(let literal): text = literal
        case .string(let quoted): text = quoted
        default: throw JobsRequestError(.invalidRequest, "\(key) must be an integer")
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(text) else {
            throw JobsRequestError(.invalidRequest, "\(key) must be a non-negative integer")
        }
        return value
    }

    private static func flag(_ body: JSONValue, _ key: String) throws(JobsRequestError) -> Bool {
        guard let field = body[key] else { return false }
        guard let value = field.boolValue else {
            throw JobsRequestError(.invalidRequest, "\(key) must be true or false")
        }
        return value
    }
}

func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}
