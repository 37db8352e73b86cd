// Wildcard subscriptions by topic level (§4.7), so a PUBLISH is matched in as many steps as its topic has levels
// instead of one step per filter the server holds. A fleet where every device subscribes to a filter of its own
// (`devices/ID/#`) made the flat scan cost milliseconds per message at a few thousand clients (`ota bench mqtt`).

/// Filters and their subscribers, stored level by level: a node per level, with the filters that end there, the
/// subscribers of `…/#` at that point and a branch for `+`. Not thread-safe: the broker's lock guards it.
final class SubscriptionTree {
    private final class Node {
        /// Subscribers whose filter ends at this node.
        var here: [String: QoS] = [:]
        /// Subscribers of this node's path followed by `#`: it matches this level's topic and everything below.
        var everythingBelow: [String: QoS] = [:]
        var children: [Substring: Node] = [:]
        /// The branch for a `+` level.
        var anyLevel: Node?

        var isEmpty: Bool { here.isEmpty && everythingBelow.isEmpty && children.isEmpty && anyLevel == nil }

        /// The node for `level` below this one, made when missing (`+` is the wildcard branch).
        func descend(_ level: Substring) -> Node {
            if level == "+" {
                if let anyLevel { return anyLevel }
                let node = Node()
                anyLevel = node
                return node
            }
            if let child = children[level] { return child }
            let node = Node()
            children[level] = node
            return node
        }
    }

    private let root = Node()

    /// Whether no filter is stored.
    var isEmpty: Bool { root.isEmpty }

    /// Subscribes `clientID` to `filter` (validated) with `qos`, replacing its earlier QoS for the same filter.
    func insert(filter: String, clientID: String, qos: QoS) {
        var node = root
        for level in Self.levels(of: filter) {
            if level == "#" {
                node.everythingBelow[clientID] = qos
                return
            }
            node = node.descend(level)
        }
        node.here[clientID] = qos
    }

    /// Removes `clientID`'s subscription to `filter`, and the nodes it leaves empty.
    func remove(filter: String, clientID: String) {
        Self.remove(clientID, levels: Self.levels(of: filter)[...], from: root)
    }

    /// Adds the subscribers of every filter that matches `topic` (a validated topic name) to `granted`, each with the
    /// highest QoS of its matching filters.
    func collectSubscribers(of topic: String, into granted: inout [String: QoS]) {
        let levels = Self.levels(of: topic)
        // §4.7.2: a filter that starts with a wildcard does not match a topic that starts with '$'.
        let systemTopic = topic.utf8.first == UInt8(ascii: "$")
        Self.collect(levels[...], from: root, wildcardsAllowed: !systemTopic, into: &granted)
    }

    private static func collect(
        _ levels: ArraySlice<Substring>, from node: Node, wildcardsAllowed: Bool, into granted: inout [String: QoS]
    ) {
        if wildcardsAllowed { merge(node.everythingBelow, into: &granted) }
        guard let level = levels.first else { return merge(node.here, into: &granted) }
        let rest = levels.dropFirst()
        if let child = node.children[level] { collect(rest, from: child, wildcardsAllowed: true, into: &granted) }
        if wildcardsAllowed, let any = node.anyLevel {
            collect(rest, from: any, wildcardsAllowed: true, into: &granted)
        }
    }

    private static func merge(_ subscribers: [String: QoS], into granted: inout [String: QoS]) {
        for (clientID, qos) in subscribers { granted[clientID] = max(granted[clientID] ?? .atMostOnce, qos) }
    }

    /// Returns whether `node` is empty afterwards, so its parent drops it.
    @discardableResult
    private static func remove(_ clientID: String, levels: ArraySlice<Substring>, from node: Node) -> Bool {
        if let level = levels.first {
            if level == "#" {
                node.everythingBelow[clientID] = nil
            } else if level == "+", let any = node.anyLevel {
                if remove(clientID, levels: levels.dropFirst(), from: any) { node.anyLevel = nil }
            } else if level != "+", let child = node.children[level] {
                if remove(clientID, levels: levels.dropFirst(), from: child) { node.children[level] = nil }
            }
        } else {
            node.here[clientID] = nil
        }
        return node.isEmpty
    }

    /// A topic's or filter's levels; empty levels count (`a//b` has three).
    private static func levels(of text: String) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
    }
}
