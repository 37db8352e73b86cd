// MQTT topic names of the AWS IoT Jobs and Streams APIs (docs/specs/aws-ota-wire.md §2).
// Standard library only: this file compiles in Embedded Swift.

/// Payload format of a stream request, the last topic level of `get/<fmt>` and `data/<fmt>`.
public enum StreamPayloadFormat: Sendable, Equatable {
    case cbor
    case json

    public var topicLevel: String {
        switch self {
        case .cbor: return "cbor"
        case .json: return "json"
        }
    }
}

/// Builds the reserved `$aws/things/<thing>/...` topics one thing uses.
/// The service answers every request topic itself; the device subscribes only to notify-next and stream data.
public struct ThingTopics: Sendable, Equatable {
    public let thingName: String

    public init(thingName: String) {
        self.thingName = thingName
    }

    /// `$aws/things/<T>/` — every topic a device may use starts with this prefix.
    public var prefix: String { "$aws/things/" + thingName + "/" }

    private var jobs: String { prefix + "jobs/" }
    private func stream(_ streamID: String) -> String { prefix + "streams/" + streamID + "/" }

    public var notifyNext: String { jobs + "notify-next" }
    public var notify: String { jobs + "notify" }
    public var getPendingJobs: String { jobs + "get" }
    public var startNext: String { jobs + "start-next" }

    /// DescribeJobExecution; `jobID` `$next` asks for the next pending execution.
    public func describeJob(_ jobID: String) -> String { jobs + jobID + "/get" }
    public func updateJob(_ jobID: String) -> String { jobs + jobID + "/update" }

    /// The response topic of any Jobs request: `<request>/accepted` or `<request>/rejected`.
    public static func response(to requestTopic: String, accepted: Bool) -> String {
        requestTopic + (accepted ? "/accepted" : "/rejected")
    }

    public func streamGet(_ streamID: String, format: StreamPayloadFormat) -> String {
        stream(streamID) + "get/" + format.topicLevel
    }
    public func streamData(_ streamID: String, format: StreamPayloadFormat) -> String {
        stream(streamID) + "data/" + format.topicLevel
    }
    public func streamDescribe(_ streamID: String, format: StreamPayloadFormat) -> String {
        stream(streamID) + "describe/" + format.topicLevel
    }
    public func streamDescription(_ streamID: String, format: StreamPayloadFormat) -> String {
        stream(streamID) + "description/" + format.topicLevel
    }
    public func streamRejected(_ streamID: String, format: StreamPayloadFormat) -> String {
        stream(streamID) + "rejected/" + format.topicLevel
    }
}
