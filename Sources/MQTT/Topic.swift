// Topic names and filters (§4.7): validation and matching, including the rule that filters starting with a
// wildcard do not match topics starting with '$' (§4.7.2).

public enum Topic {
    /// The most levels a subscription filter may have here (AWS IoT Core allows 8). The server refuses deeper ones
    /// in its SUBACK: each level of a wildcard filter is a node of the broker's subscription tree, and a 64 KiB
    /// filter of `+/+/…` would be megabytes of them.
    public static let maximumFilterLevels = 64

    /// How many levels `filter` has (`a//b` has three).
    public static func levelCount(_ filter: String) -> Int {
        filter.utf8.count { $0 == UInt8(ascii: "/") } + 1
    }

    /// A topic name as PUBLISH carries it: at least one character, no wildcards.
    public static func validateName(_ topic: String) throws(MQTTProtocolError) {
        if topic.isEmpty { throw .invalidTopicName(topic, reason: "it is empty") }
        if topic.utf8.contains(UInt8(ascii: "+")) || topic.utf8.contains(UInt8(ascii: "#")) {
            throw .invalidTopicName(topic, reason: "it contains a wildcard")
        }
    }

    /// A topic filter: '#' only as the whole last level, '+' only as a whole level.
    public static func validateFilter(_ filter: String) throws(MQTTProtocolError) {
        if filter.isEmpty { throw .invalidTopicFilter(filter, reason: "it is empty") }
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || index != levels.count - 1) {
                throw .invalidTopicFilter(filter, reason: "'#' must be the whole last level")
            }
            if level.contains(UInt8(ascii: "+")) && level.count != 1 {
                throw .invalidTopicFilter(filter, reason: "'+' must be a whole level")
            }
        }
    }

    /// Whether `filter` matches `topic` (both already validated).
    public static func matches(filter: String, topic: String) -> Bool {
        let topicBytes = Array(topic.utf8)
        if topicBytes.first == UInt8(ascii: "$"), let first = filter.utf8.first,
            first == UInt8(ascii: "+") || first == UInt8(ascii: "#")
        {
            return false
        }
        let filterLevels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let topicLevels = topicBytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var index = 0
        for level in filterLevels {
            if level.elementsEqual([UInt8(ascii: "#")]) { return true }
            guard index < topicLevels.count else { return false }
            if !level.elementsEqual([UInt8(ascii: "+")]) && !level.elementsEqual(topicLevels[index]) { return false }
            index += 1
        }
        return index == topicLevels.count
    }
}
