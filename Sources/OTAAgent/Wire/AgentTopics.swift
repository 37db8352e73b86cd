// The topics one device's agent uses (aws-ota-wire.md §2), as bytes: `$aws/things/<thing>/` is kept, and the
// Jobs and Streams suffixes are added when a topic is needed. Incoming topics are matched piece by piece in place:
// keeping the three job topics built would cost RAM for each (up to 170 bytes apiece with a 128-byte thing name)
// to save a few dozen bytes of code.

struct AgentTopics {
    /// `$aws/things/<thing>/`
    let prefix: [UInt8]

    init(thingName: [UInt8]) {
        prefix = [UInt8](ascii: "$aws/things/") + thingName + [0x2F]
    }

    /// The thing name: the prefix between `$aws/things/` (12 bytes) and the last `/`.
    var thingName: ArraySlice<UInt8> { prefix[12..<prefix.count - 1] }

    /// `jobs/<suffix>`, e.g. `jobs/notify-next`.
    func jobs(_ suffix: StaticString) -> [UInt8] {
        var topic = prefix
        topic.append(ascii: "jobs/")
        topic.append(ascii: suffix)
        return topic
    }

    /// Whether `topic` is this thing's `jobs/<suffix>`.
    func isJobs(_ topic: [UInt8], _ suffix: StaticString) -> Bool {
        let jobs: StaticString = "jobs/"
        let suffixStart = prefix.count + jobs.utf8CodeUnitCount
        return topic.count == suffixStart + suffix.utf8CodeUnitCount && topic[..<prefix.count].elementsEqual(prefix)
            && Self.matches(topic, at: prefix.count, jobs) && Self.matches(topic, at: suffixStart, suffix)
    }

    private static func matches(_ topic: [UInt8], at offset: Int, _ literal: StaticString) -> Bool {
        let start = literal.utf8Start
        for index in 0..<literal.utf8CodeUnitCount where topic[offset + index] != start[index] { return false }
        return true
    }

    /// UpdateJobExecution: `jobs/<jobID>/update`.
    func updateJob(_ jobID: [UInt8]) -> [UInt8] {
        var topic = prefix
        topic.append(ascii: "jobs/")
        topic += jobID
        topic.append(ascii: "/update")
        return topic
    }

    /// `streams/<stream>/get/cbor` (GetStream) or `…/data/cbor` (the blocks).
    func stream(_ stream: [UInt8], _ suffix: StaticString) -> [UInt8] {
        var topic = prefix
        topic.append(ascii: "streams/")
        topic += stream
        topic.append(ascii: suffix)
        return topic
    }
}
