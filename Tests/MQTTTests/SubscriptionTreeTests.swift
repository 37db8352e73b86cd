import TestSupport
import Testing

@testable import MQTT

/// The broker's wildcard subscriptions, stored by level, must match exactly the filters `Topic.matches` (the
/// spec's §4.7 rules, tested on their own in CodecTests) says match, with the highest QoS per client.
@Suite struct SubscriptionTreeTests {
    /// Levels drawn from a small alphabet so that random filters and topics often meet: empty levels, a '$' level
    /// (only special first), and repeated names.
    private static let names = ["a", "b", "", "$s", "ab"]

    private static func randomTopic(_ random: inout SeededGenerator) -> String {
        let count = Int.random(in: 1...4, using: &random)
        let topic = (0..<count).map { _ in names.randomElement(using: &random)! }.joined(separator: "/")
        return topic.isEmpty ? "a" : topic
    }

    private static func randomFilter(_ random: inout SeededGenerator) -> String {
        let count = Int.random(in: 1...4, using: &random)
        var levels = (0..<count).map { _ in
            Int.random(in: 0..<4, using: &random) == 0 ? "+" : names.randomElement(using: &random)!
        }
        if Bool.random(using: &random) { levels[count - 1] = "#" }
        let filter = levels.joined(separator: "/")
        return filter.isEmpty ? "+" : filter
    }

    /// What a flat scan of every subscription with `Topic.matches` grants for `topic`.
    private static func scan(_ subscriptions: [String: [String: QoS]], topic: String) -> [String: QoS] {
        var granted: [String: QoS] = [:]
        for (filter, clients) in subscriptions where Topic.matches(filter: filter, topic: topic) {
            for (client, qos) in clients { granted[client] = max(granted[client] ?? .atMostOnce, qos) }
        }
        return granted
    }

    @Test func matchesWhatAScanOfEveryFilterMatchesAsSubscriptionsComeAndGo() throws {
        var random = SeededGenerator(seed: 0x7EE5)
        let tree = SubscriptionTree()
        var subscriptions: [String: [String: QoS]] = [:]
        let qualities: [QoS] = [.atMostOnce, .atLeastOnce, .exactlyOnce]
        var matchedSomething = 0
        for round in 0..<3000 {
            let client = "c\(Int.random(in: 0..<12, using: &random))"
            if round % 3 == 2, let filter = subscriptions.keys.sorted().randomElement(using: &random),
                let subscriber = subscriptions[filter]?.keys.sorted().randomElement(using: &random)
            {
                tree.remove(filter: filter, clientID: subscriber)
                subscriptions[filter]?[subscriber] = nil
                if subscriptions[filter]?.isEmpty == true { subscriptions[filter] = nil }
            } else {
                let filter = Self.randomFilter(&random)
                try Topic.validateFilter(filter)
                let qos = qualities.randomElement(using: &random)!
                tree.insert(filter: filter, clientID: client, qos: qos)
                subscriptions[filter, default: [:]][client] = qos
            }
            let topic = Self.randomTopic(&random)
            try Topic.validateName(topic)
            var granted: [String: QoS] = [:]
            tree.collectSubscribers(of: topic, into: &granted)
            let expected = Self.scan(subscriptions, topic: topic)
            #expect(granted == expected, "round \(round): topic \(topic)")
            if !expected.isEmpty { matchedSomething += 1 }
        }
        // The comparison means something only if many topics matched some filter.
        #expect(matchedSomething > 1000)
    }

    @Test func removingEverySubscriptionLeavesNoNodeBehind() {
        let tree = SubscriptionTree()
        let filters = ["a/#", "a/+/c", "+/b", "#", "a/b/c/#", "+", "$aws/things/+/jobs/#", "a//+"]
        for (index, filter) in filters.enumerated() {
            tree.insert(filter: filter, clientID: "one", qos: .atLeastOnce)
            tree.insert(filter: filter, clientID: "two-\(index)", qos: .atMostOnce)
        }
        for (index, filter) in filters.enumerated() {
            tree.remove(filter: filter, clientID: "one")
            tree.remove(filter: filter, clientID: "two-\(index)")
            // Removing what is not there changes nothing.
            tree.remove(filter: filter + "/x", clientID: "one")
        }
        #expect(tree.isEmpty)
    }

    @Test func aSystemTopicIsNotMatchedByALeadingWildcardButIsBelowIt() {
        let tree = SubscriptionTree()
        tree.insert(filter: "#", clientID: "everything", qos: .atMostOnce)
        tree.insert(filter: "+/monitor", clientID: "any-first", qos: .atMostOnce)
        tree.insert(filter: "$SYS/#", clientID: "system", qos: .atLeastOnce)
        tree.insert(filter: "$SYS/+", clientID: "system-level", qos: .exactlyOnce)
        var granted: [String: QoS] = [:]
        tree.collectSubscribers(of: "$SYS/monitor", into: &granted)
        #expect(granted == ["system": .atLeastOnce, "system-level": .exactlyOnce])
        granted = [:]
        tree.collectSubscribers(of: "sys/monitor", into: &granted)
        #expect(granted == ["everything": .atMostOnce, "any-first": .atMostOnce])
    }
}
