import Synchronization

/// What one kind of attack did, counted as it runs (its tasks and the report share it).
final class AttackTally: Sendable {
    let name: String
    private let counts = Mutex((opened: 0, closedByService: 0, refused: 0, messages: 0, bytes: 0))

    init(_ name: String) { self.name = name }

    func opened() { counts.withLock { $0.opened += 1 } }
    /// The service closed connections of this attack (a deadline, a cap, a limit).
    func closed(_ count: Int = 1) { counts.withLock { $0.closedByService += count } }
    /// A connect the service refused outright (the listen queue full, reset).
    func refused() { counts.withLock { $0.refused += 1 } }
    func sent(_ bytes: Int) {
        counts.withLock {
            $0.messages += 1
            $0.bytes += bytes
        }
    }

    /// One line: connections and what the service closed; messages and bytes sent when there were any.
    var line: String {
        let c = counts.withLock { $0 }
        var text = "\(name): \(c.opened) connections opened, \(c.closedByService) closed by the service"
        if c.refused > 0 { text += ", \(c.refused) connects refused" }
        if c.messages > 0 {
            text += ", \(c.messages) messages sent (\(String(format: "%.1f", Double(c.bytes) / 1_048_576)) MiB)"
        }
        return text
    }
}
