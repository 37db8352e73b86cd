// Jobs MQTT API requests from devices (aws-ota-wire.md §3.2, §3.4): the body under the device-request limits, the
// client token, UpdateJobExecution and StartNextPendingJobExecution. A field of the wrong type or out of range is
// InvalidRequest, never ignored: a device that sends it has a bug its operator should see.

/// The common fields of a Jobs request body: client token (opaque, at most 64 bytes).
public func jobsClientToken(in body: JSONValue) throws(JobsRequestError) -> String? {
    guard let token = body["clientToken"] else { return nil }
    guard let text = token.stringValue else { throw JobsRequestError(.invalidRequest, "clientToken must be a string") }
    guard text.utf8.count <= 64 else { throw JobsRequestError(.invalidRequest, "clientToken is longer than 64 bytes") }
    return text
}

/// Parses a Jobs request body: empty means `{}`, otherwise a JSON object within `DecodingLimits.deviceRequest`
/// (larger, deeper or wider bodies are InvalidRequest; malformed ones InvalidJson).
public func jobsRequestBody(_ payload: [UInt8]) throws(JobsRequestError) -> JSONValue {
    let value: JSONValue
    do { value = try JSONParser.parse(payload, limits: .deviceRequest) } catch {
        if error.failure == .limitExceeded { throw JobsRequestError(.invalidRequest, error.description) }
        // Checked only once the parser failed, so that it has already bounded the size.
        if payload.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return .object(JSONObject()) }
        throw JobsRequestError(.invalidJSON, error.description)
    }
    guard value.objectValue != nil else { throw JobsRequestError(.invalidJSON, "the request body is not an object") }
    return value
}

/// UpdateJobExecution (`…/jobs/<J>/update`).
public struct UpdateJobExecutionRequest: Equatable, Sendable {
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
        statusDetails = try JobsRequestFields.statusDetails(in: body)
        expectedVersion = try JobsRequestFields.integer(body, "expectedVersion")
        executionNumber = try JobsRequestFields.integer(body, "executionNumber")
        stepTimeoutInMinutes = try JobsRequestFields.stepTimeout(in: body)
        includeJobExecutionState = try JobsRequestFields.flag(body, "includeJobExecutionState")
        includeJobDocument = try JobsRequestFields.flag(body, "includeJobDocument")
    }
}

/// StartNextPendingJobExecution (`…/jobs/start-next`).
public struct StartNextPendingJobExecutionRequest: Equatable, Sendable {
    public var statusDetails: JSONObject?
    public var stepTimeoutInMinutes: Int64?
    public var clientToken: String?

    public init(parsing body: JSONValue) throws(JobsRequestError) {
        clientToken = try jobsClientToken(in: body)
        statusDetails = try JobsRequestFields.statusDetails(in: body)
        stepTimeoutInMinutes = try JobsRequestFields.stepTimeout(in: body)
    }
}

/// The field rules both requests share.
public enum JobsRequestFields {
    public static let maximumStatusDetailKeyBytes = 128
    public static let maximumStatusDetailValueCharacters = 1024
    /// AWS's range for a step timer: one minute to seven days.
    public static let stepTimeoutMinutes: ClosedRange<Int64> = 1...10080

    /// Absent, or an object whose members pass `validateDetails`.
    static func statusDetails(in body: JSONValue) throws(JobsRequestError) -> JSONObject? {
        guard let details = body["statusDetails"] else { return nil }
        guard let object = details.objectValue else {
            throw JobsRequestError(.invalidRequest, "statusDetails must be an object")
        }
        try validateDetails(object)
        return object
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

    /// Absent, or an integer of minutes in `stepTimeoutMinutes`. The range also keeps `minutes * 60` added to a
    /// timestamp far from overflowing.
    static func stepTimeout(in body: JSONValue) throws(JobsRequestError) -> Int64? {
        guard let minutes = try integer(body, "stepTimeoutInMinutes") else { return nil }
        guard stepTimeoutMinutes.contains(minutes) else {
            throw JobsRequestError(.invalidRequest, "stepTimeoutInMinutes must be from 1 to 10080")
        }
        return minutes
    }

    /// Accepts a JSON number or a numeric string ([JOBSLIB] sends `"expectedVersion":"<n>"`).
    static func integer(_ body: JSONValue, _ key: String) throws(JobsRequestError) -> Int64? {
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

    static func flag(_ body: JSONValue, _ key: String) throws(JobsRequestError) -> Bool {
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
