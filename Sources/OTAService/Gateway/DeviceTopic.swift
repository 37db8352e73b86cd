import OTAWire

// Parses the reserved request topics a device publishes (aws-ota-wire.md §2.2) into what the gateway answers.

public enum DeviceRequest: Equatable, Sendable {
    case getPendingJobs
    case startNext
    /// `jobID` is `$next` or a job id.
    case describeJob(jobID: String)
    /// `jobID` may be empty: the FreeRTOS agent can publish to `jobs//update` (§5.5); answered with InvalidTopic.
    case updateJob(jobID: String)
    case streamGet(streamID: String, format: StreamPayloadFormat)
    case streamDescribe(streamID: String, format: StreamPayloadFormat)
    /// Something else under `jobs/` or `streams/`: a reserved topic that is not a request (for example a
    /// device publishing to its own `…/accepted`). Consumed and dropped, never routed.
    case reservedNonRequest
    /// Not a reserved topic: routed like any other publish.
    case other

    /// Read on the connection's event loop for every publish a device sends: compared byte by byte; strings are
    /// built only for the levels of a `jobs` or `streams` topic.
    public init(topic: String, thing: String) {
        var rest = topic.utf8[...]
        guard Self.dropPrefix("$aws/things/".utf8, from: &rest), Self.dropPrefix(thing.utf8, from: &rest),
            Self.dropPrefix("/".utf8, from: &rest)
        else {
            self = .other
            return
        }
        let levels = rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let words = { levels.dropFirst().map { String(Substring($0)) } }
        switch levels.first.map(Substring.init) {
        case "jobs": self = Self.jobs(words())
        case "streams": self = Self.streams(words())
        default: self = .other
        }
    }

    private static func dropPrefix(_ prefix: String.UTF8View, from rest: inout Substring.UTF8View) -> Bool {
        guard rest.starts(with: prefix) else { return false }
        rest = rest.dropFirst(prefix.count)
        return true
    }

    private static func jobs(_ levels: [String]) -> DeviceRequest {
        switch levels.count {
        case 1 where levels[0] == "get": return .getPendingJobs
        case 1 where levels[0] == "start-next": return .startNext
        case 2 where levels[1] == "get": return .describeJob(jobID: levels[0])
        case 2 where levels[1] == "update": return .updateJob(jobID: levels[0])
        default: return .reservedNonRequest
        }
    }

    private static func streams(_ levels: [String]) -> DeviceRequest {
        guard levels.count == 3, !levels[0].isEmpty else { return .reservedNonRequest }
        let format: StreamPayloadFormat
        switch levels[2] {
        case "cbor": format = .cbor
        case "json": format = .json
        default: return .reservedNonRequest
        }
        switch levels[1] {
        case "get": return .streamGet(streamID: levels[0], format: format)
        case "describe": return .streamDescribe(streamID: levels[0], format: format)
        default: return .reservedNonRequest
        }
    }
}
