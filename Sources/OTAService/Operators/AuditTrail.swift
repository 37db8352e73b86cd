import Hummingbird
import Logging
import Synchronization

// Writes the audit trail: one entry per change made through the management API or the console (and per refusal and
// sign-in), appended to the store after the call. An entry that cannot be written is logged as an error with everything it held: the change
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

    /// An entry for what `principal` did from `source` now (the status is set by `change` or given for a refusal).
    func entry(
        _ principal: Principal, source: String, action: String, subject: AuditSubject? = nil, status: Int = 0
    ) -> AuditEntry {
        AuditEntry(
            at: now(), actor: principal.name, role: principal.role.rawValue, source: source, action: action,
            target: subject?.label, status: status)
    }

    /// Runs a change and records it: the subject before, the status answered, and after a success the subject
    /// again — or, for a change that names none (a creation), the JSON answer the handler built, secrets replaced.
    /// `body` answers its own errors (a problem document for the API, a page for the console), so the entry carries
    /// the status the client got.
    func change(_ entry: AuditEntry, subject: AuditSubject?, _ body: () async -> Response) async -> Response {
        var entry = entry
        entry.before = await snapshot(subject)
        let answer = AuditedAnswer()
        let response = await AuditedAnswer.$current.withValue(answer) { await body() }
        entry.status = response.status.code
        if response.status.code < 400 {
            entry.after = subject != nil ? await snapshot(subject) : answer.kept.flatMap(AuditSubject.redactedAnswer)
        }
        await record(entry)
        return response
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
