// Which instance runs the rollout scheduler (releases, timeouts, abort checks). With one instance, that one. With
// several on a shared database, exactly one at a time: the leader holds a lock in the database, and when it dies
// the lock goes with its connection and another instance takes over at its next tick.

public protocol SchedulerLeadership: Sendable {
    /// Whether this instance leads now, taking the lead when it is free; asked before every tick.
    func lead() async -> Bool
    /// Gives the lead up (at stop), so that another instance takes over at once.
    func resign() async
    /// Whether this instance led at its last tick.
    var isLeading: Bool { get }
}

/// The only instance: always the leader.
struct SoleLeadership: SchedulerLeadership {
    func lead() async -> Bool { true }
    func resign() async {}
    var isLeading: Bool { true }
}
