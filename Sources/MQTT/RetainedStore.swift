// Retained messages, bounded: per publishing client, in count and in bytes. Without limits one client could keep
// thousands of large retained messages in the server's memory after it left. Past a limit a retained message is
// still delivered to current subscribers, but not kept.

/// How many retained messages the server keeps.
public struct RetainedLimits: Sendable, Equatable {
    /// Retained topics one client may hold.
    public var perClient: Int
    /// Retained messages in all.
    public var total: Int
    /// Payload bytes of all retained messages.
    public var totalBytes: Int

    public init(perClient: Int = 100, total: Int = 10_000, totalBytes: Int = 64 << 20) {
        self.perClient = perClient
        self.total = total
        self.totalBytes = totalBytes
    }
}

struct RetainedStore {
    typealias Limits = RetainedLimits

    private struct Entry {
        var message: PublishPacket
        /// The client that set it (nil: the service itself, which is not limited per client).
        var owner: String?
    }

    let limits: Limits
    private var entries: [String: Entry] = [:]
    private var countByOwner: [String: Int] = [:]
    private var bytes = 0
    /// Messages refused because a limit was reached.
    private(set) var refused = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    var messages: some Collection<PublishPacket> { entries.values.lazy.map(\.message) }

    /// Keeps `message` for its topic (an empty payload clears it, §3.3.1.3); false when a limit refused it.
    mutating func store(_ message: PublishPacket, from owner: String?) -> Bool {
        let previous = entries[message.topic]
        let sameOwner = previous?.owner == owner
        if !message.payload.isEmpty {
            let count = owner.map { (countByOwner[$0] ?? 0) + (sameOwner ? 0 : 1) } ?? 0
            let total = entries.count + (previous == nil ? 1 : 0)
            let size = bytes - (previous?.message.payload.count ?? 0) + message.payload.count
            guard count <= limits.perClient, total <= limits.total, size <= limits.totalBytes else {
                refused += 1
                return false
            }
        }
        if let previous { remove(message.topic, previous) }
        guard !message.payload.isEmpty else { return true }
        entries[message.topic] = Entry(message: message, owner: owner)
        if let owner { countByOwner[owner, default: 0] += 1 }
        bytes += message.payload.count
        return true
    }

    private mutating func remove(_ topic: String, _ entry: Entry) {
        entries[topic] = nil
        bytes -= entry.message.payload.count
        if let owner = entry.owner {
            countByOwner[owner, default: 1] -= 1
            if countByOwner[owner] == 0 { countByOwner[owner] = nil }
        }
    }
}
