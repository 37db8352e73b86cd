import Foundation

// What one instance tells the others when several share a database. Each event names what changed, never the new
// state: the receiver reads that from the database, so an event is small, cannot disagree with what was committed,
// and a lost one costs a late notification, never a wrong state.

public enum ClusterEvent: Sendable, Equatable, Codable {
    /// These things' next job execution changed (created, cancelled, aborted, finished): the instance each one is
    /// connected to sends its notify-next.
    case nextChanged(things: [String])
    /// A device certificate changed (issued, registered, revoked): every instance updates its gateway trust.
    case certificateChanged(fingerprint: String)
    /// A CA changed (registered, deactivated).
    case authorityChanged(fingerprint: String)
    /// A device connected to the sending instance at `milliseconds` since 1970 (its wall clock): any other instance
    /// still holding an older connection of that client id closes it, as the MQTT session takeover does within one
    /// instance.
    case deviceConnected(thing: String, milliseconds: Int64)
}

extension ClusterEvent {
    /// The event that tells the other instances of a change to the gateway's trust.
    init(_ change: TrustChange) {
        switch change {
        case .certificate(let record): self = .certificateChanged(fingerprint: record.fingerprint)
        case .authority(let record): self = .authorityChanged(fingerprint: record.fingerprint)
        }
    }
}

/// Carries events between the instances sharing a database.
public protocol ClusterBus: Sendable {
    /// Sends `event` to every other instance; failures are logged, not thrown (the change itself committed).
    func announce(_ event: ClusterEvent) async
    /// Delivers the other instances' events to `events` until `stop()`, reconnecting when the link breaks; after a
    /// break, calls `missed` once listening again, before the next event.
    func start(
        events: @escaping @Sendable (ClusterEvent) async -> Void, missed: @escaping @Sendable () async -> Void
    ) async throws
    func stop() async
}
