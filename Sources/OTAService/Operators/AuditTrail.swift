import Logging
import Synchronization

// Writes the audit trail: one entry per change made through the management API (and per refusal), appended to the
// store after the call. An entry that cannot be written is logged as an error with everything it held: the change
// itself has happened by then and is not undone.

struct AuditTrail: Sendable {
    let store: any OTAStore
    let now: @Sendable () -> Int64
    let logger: Logger

    func record(_ entry: AuditEntry) async {
        do {
            _ = try await store.write { try $0.append(entry) }
        } catch {
            logger.error(
                "audit entry not written",
                metadata: [
                    "error": "\(error)", "actor": "\(entry.actor)", "action": "\(entry.action)",
                    "target": "\(entry.target ?? "")", "status": "\(entry.status)",
                ])
        }
    }

    func snapshot(_ subject: AuditSubject?) async -> String? {
        guard let subject else { return nil }
        return try? await store.read { try subject.snapshot(in: $0) }
    }
}

/// The JSON answer a handler built (APIBody.json puts it here), for the audit entry of a call that creates a
/// resource. Task-local: the handler runs in the audit middleware's task.
final class AuditedAnswer: Sendable {
    @TaskLocal static var current: AuditedAnswer?

    private let bytes = Mutex<[UInt8]?>(nil)

    func keep(_ body: [UInt8]) { bytes.withLock { $0 = body } }
    var kept: [UInt8]? { bytes.withLock { $0 } }
}
