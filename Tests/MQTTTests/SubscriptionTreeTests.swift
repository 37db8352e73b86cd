import Foundation
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
        }
        #expect(tree.isEmpty)
    }

    /// Removing a subscription that is not held (another filter's client, a filter never stored, a prefix or an
    /// extension of a stored one) leaves every other subscription matching as before.
    @Test func removingWhatIsNotHeldTakesNothingAway() {
        let tree = SubscriptionTree()
        tree.insert(filter: "a/+/c", clientID: "one", qos: .atLeastOnce)
        tree.insert(filter: "a/#", clientID: "two", qos: .atMostOnce)
        tree.insert(filter: "+/b/c", clientID: "three", qos: .exactlyOnce)
        for (filter, client) in [
            ("a/+/c", "two"), ("a/#", "one"), ("a/+", "one"), ("a/+/c/d", "one"), ("a/+/#", "one"), ("+/b/#", "three"),
            ("b/#", "two"), ("+/b/c", "one"),
        ] {
            tree.remove(filter: filter, clientID: client)
        }
        var granted: [String: QoS] = [:]
        tree.collectSubscribers(of: "a/b/c", into: &granted)
        #expect(granted == ["one": .atLeastOnce, "two": .atMostOnce, "three": .exactlyOnce])
    }

    /// Topics are compared as bytes (§4.7.3): "é" and "e" + U+0301 are equal Swift strings but different topics.
    @Test func levelsThatAreCanonicallyEquivalentButNotTheSameBytesDoNotMatch() {
        let tree = SubscriptionTree()
        tree.insert(filter: "things/caf\u{E9}/#", clientID: "composed", qos: .atMostOnce)
        tree.insert(filter: "things/cafe\u{301}/+", clientID: "decomposed", qos: .atMostOnce)
        var granted: [String: QoS] = [:]
        tree.collectSubscribers(of: "things/caf\u{E9}/x", into: &granted)
        #expect(granted == ["composed": .atMostOnce])
        granted = [:]
        tree.collectSubscribers(of: "things/cafe\u{301}/x", into: &granted)
        #expect(granted == ["decomposed": .atMostOnce])
    }

    /// Matching and removal do not recurse: a topic of 60,000 levels is matched, and its filter removed, on a
    /// thread with 512 KiB of stack, where recursion over 60,000 levels would overflow it.
    @Test func aTopicOfTensOfThousandsOfLevelsIsMatchedWithoutRecursion() {
        final class Outcome: @unchecked Sendable {
            var granted: [String: QoS] = [:]
            var emptyAfterRemoval = false
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let tree = SubscriptionTree()
            let levels = 60_000
            let filter = Array(repeating: "+", count: levels).joined(separator: "/")
            tree.insert(filter: filter, clientID: "deep", qos: .atMostOnce)
            tree.insert(filter: "x/#", clientID: "shallow", qos: .atMostOnce)
            tree.collectSubscribers(
                of: Array(repeating: "x", count: levels).joined(separator: "/"), into: &outcome.granted)
            tree.remove(filter: filter, clientID: "deep")
            tree.remove(filter: "x/#", clientID: "shallow")
            outcome.emptyAfterRemoval = tree.isEmpty
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        #expect(outcome.granted == ["deep": .atMostOnce, "shallow": .atMostOnce])
        #expect(outcome.emptyAfterRemoval)
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
