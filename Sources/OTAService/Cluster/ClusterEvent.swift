import Foundation

// What one instance tells the others when several share a database. Each event names what changed, never the new
// state: the receiver reads that from the database, so an event is small, cannot disagree with what was committed,
// and a lost one costs a late notification, never a wrong state.

public enum ClusterEvent: Sendable, Equatable, Codable {
    /// These things' next job execution changed (created, cancelled, aborted, finished): the instance each one is
    /// connected to sends its notify-next, unless the execution moved on meanwhile.
    case nextChanged([NextExecution])

    /// A thing's next execution as it was committed: job, execution number and version (nil: none left).
    public struct NextExecution: Sendable, Equatable, Codable {
        public var thing: String
        public var jobID: String?
        public var executionNumber: Int64?
        public var versionNumber: Int64?

        public init(thing: String, jobID: String? = nil, executionNumber: Int64? = nil, versionNumber: Int64? = nil) {
            self.thing = thing
            self.jobID = jobID
            self.executionNumber = executionNumber
            self.versionNumber = versionNumber
        }

        init(thing: String, next: JobExecution?) {
            self.init(
                thing: thing, jobID: next?.jobID, executionNumber: next?.executionNumber,
                versionNumber: next?.versionNumber)
        }

        /// Whether `execution`, read now, is still the one announced, unchanged.
        func matches(_ execution: JobExecution?) -> Bool {
            execution?.jobID == jobID && execution?.executionNumber == executionNumber
                && execution?.versionNumber == versionNumber
        }
    }
    /// A device certificate changed (issued, registered, revoked): every instance updates its gateway trust.
    case certificateChanged(fingerprint: String)
    /// A CA changed (registered, deactivated).
    case authorityChanged(fingerprint: String)
    /// A device connected to the sending instance at `milliseconds` since 1970 (its wall clock): any other instance
    /// holding a connection of that client id made earlier closes it, as the MQTT session takeover does within one
    /// instance. The instances' clocks must agree (NTP) to within the time a device takes to move between them.
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
