// Wildcard subscriptions by topic level (§4.7), so a PUBLISH is matched in as many steps as its topic has levels
// instead of one step per filter the server holds. A fleet where every device subscribes to a filter of its own
// (`devices/ID/#`) made the flat scan cost milliseconds per message at a few thousand clients (`ota bench mqtt`).
// Matching and removal loop instead of recursing: a topic may have thousands of levels, an event loop's stack not.

/// Filters and their subscribers, stored level by level: a node per level, with the filters that end there, the
/// subscribers of `…/#` at that point and a branch for `+`. Not thread-safe: the broker's lock guards it.
final class SubscriptionTree {
    private final class Node {
        /// Subscribers whose filter ends at this node.
        var here: [String: QoS] = [:]
        /// Subscribers of this node's path followed by `#`: it matches this level's topic and everything below.
        var everythingBelow: [String: QoS] = [:]
        var children: [TopicBytes: Node] = [:]
        /// The branch for a `+` level.
        var anyLevel: Node?

        var isEmpty: Bool { here.isEmpty && everythingBelow.isEmpty && children.isEmpty && anyLevel == nil }

        /// The node for `level` below this one, made when missing (`+` is the wildcard branch).
        func descend(_ level: TopicBytes) -> Node {
            if let node = existing(level) { return node }
            let node = Node()
            if level.isSingleLevelWildcard { anyLevel = node } else { children[level] = node }
            return node
        }

        /// The node for `level` below this one, if there is one.
        func existing(_ level: TopicBytes) -> Node? {
            level.isSingleLevelWildcard ? anyLevel : children[level]
        }

        /// Drops the branch for `level` (once it is empty).
        func drop(_ level: TopicBytes) {
            if level.isSingleLevelWildcard { anyLevel = nil } else { children[level] = nil }
        }
    }

    private let root = Node()

    /// Whether no filter is stored.
    var isEmpty: Bool { root.isEmpty }

    /// Subscribes `clientID` to `filter` (validated) with `qos`, replacing its earlier QoS for the same filter.
    func insert(filter: String, clientID: String, qos: QoS) {
        var node = root
        for level in TopicBytes.levels(of: filter) {
            if level.isMultiLevelWildcard {
                node.everythingBelow[clientID] = qos
                return
            }
            node = node.descend(level)
        }
        node.here[clientID] = qos
    }

    /// Removes `clientID`'s subscription to `filter` (validated), and the nodes it leaves empty.
    func remove(filter: String, clientID: String) {
        var path: [(parent: Node, level: TopicBytes)] = []
        var node = root
        for level in TopicBytes.levels(of: filter) {
            if level.isMultiLevelWildcard {
                node.everythingBelow[clientID] = nil
                return prune(node, path: path)
            }
            guard let next = node.existing(level) else { return }
            path.append((node, level))
            node = next
        }
        node.here[clientID] = nil
        prune(node, path: path)
    }

    /// Drops `node` and then each ancestor on `path` while they are empty.
    private func prune(_ node: Node, path: [(parent: Node, level: TopicBytes)]) {
        var node = node
        for (parent, level) in path.reversed() {
            guard node.isEmpty else { return }
            parent.drop(level)
            node = parent
        }
    }

    /// Adds the subscribers of every filter that matches `topic` (a validated topic name) to `granted`, each with the
    /// highest QoS of its matching filters.
    func collectSubscribers(of topic: String, into granted: inout [String: QoS]) {
        let levels = TopicBytes.levels(of: topic)
        // §4.7.2: a filter that starts with a wildcard does not match a topic that starts with '$'.
        let systemTopic = topic.utf8.first == UInt8(ascii: "$")
        var pending: [(node: Node, depth: Int, wildcardsAllowed: Bool)] = [(root, 0, !systemTopic)]
        while let (node, depth, wildcardsAllowed) = pending.popLast() {
            if wildcardsAllowed { Self.merge(node.everythingBelow, into: &granted) }
            guard depth < levels.count else {
                Self.merge(node.here, into: &granted)
                continue
            }
            if let child = node.children[levels[depth]] { pending.append((child, depth + 1, true)) }
            if wildcardsAllowed, let any = node.anyLevel { pending.append((any, depth + 1, true)) }
        }
    }

    private static func merge(_ subscribers: [String: QoS], into granted: inout [String: QoS]) {
        for (clientID, qos) in subscribers { granted[clientID] = max(granted[clientID] ?? .atMostOnce, qos) }
    }
}

/// A topic, a filter or one of their levels, compared and hashed byte for byte. Swift's `String` equality is
/// canonical equivalence ("é" equals "e" + U+0301); MQTT compares topics as they are (§4.7.3).
struct TopicBytes: Hashable {
    let text: Substring

    init(_ text: Substring) { self.text = text }
    init(_ text: String) { self.text = Substring(text) }

    static func == (left: TopicBytes, right: TopicBytes) -> Bool { left.text.utf8.elementsEqual(right.text.utf8) }

    func hash(into hasher: inout Hasher) {
        let hashed: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
            return true
        }
        if hashed == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
    }

    var isSingleLevelWildcard: Bool { text.utf8.elementsEqual(CollectionOfOne(UInt8(ascii: "+"))) }
    var isMultiLevelWildcard: Bool { text.utf8.elementsEqual(CollectionOfOne(UInt8(ascii: "#"))) }

    /// A topic's or filter's levels; empty levels count (`a//b` has three).
    static func levels(of text: String) -> [TopicBytes] {
        text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map {
            TopicBytes(Substring($0))
        }
    }
}
