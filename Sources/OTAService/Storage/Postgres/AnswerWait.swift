import Foundation
import NIOCore

/// Waits on a store thread for a connection's answer, and gives up once the connection is closed without one.
///
/// PostgresNIO may never answer a statement handed to it as the connection ends: the server terminated the backend
/// (`pg_terminate_backend`, `idle_in_transaction_session_timeout`, a restart) while the connection sat idle in the
/// pool, and the statement went out in the moment between the server's FATAL answer and the channel's close. A plain
/// `wait()` would then hold this thread forever, and with it a group-commit lane (four in all). After a failed
/// statement the transaction sends nothing more on its connection (`Effects.connectionLost`); this covers the
/// statement that found the connection already ending, which no earlier answer warned of.
enum AnswerWait {
    /// How long to wait between looks at the connection. A live connection's answer ends the wait at once; this only
    /// bounds how long a dead one holds the thread.
    static let slice = DispatchTimeInterval.seconds(1)

    /// The connection closed and the statement was never answered.
    struct ConnectionClosedUnanswered: Error {}

    /// Returns once `answer` completed (its value is then read with `wait()` without blocking); throws
    /// `ConnectionClosedUnanswered` when `isClosed` says the connection ended first.
    static func wait<Value>(
        for answer: EventLoopFuture<Value>, slice: DispatchTimeInterval = slice, isClosed: () -> Bool
    ) throws {
        let answered = DispatchSemaphore(value: 0)
        answer.whenComplete { _ in answered.signal() }
        while answered.wait(timeout: .now() + slice) == .timedOut {
            guard isClosed() else { continue }
            // The answer may have come in just as the connection closed, its callback not run yet, or PostgresNIO
            // may still fail the statement for the close: one more slice for either, and it is used if it came.
            if answered.wait(timeout: .now() + slice) == .success { return }
            throw ConnectionClosedUnanswered()
        }
    }
}
