import Foundation

// Runs a transaction's synchronous closure, whose statements wait for PostgreSQL's answers, on a dispatch thread:
// never on one of Swift concurrency's few threads (they would all stall behind the write lock) nor on an event loop
// (whose futures the statements wait for).
//
// The storage contract's closures are non-escaping, so the work is lent to the thread with
// withoutActuallyEscaping. Swift checks, when that returns, that nothing kept the closure: the thread lets go of it
// before it resumes the caller, not when its block ends.

enum BlockingWork {
    private static let queue = DispatchQueue(label: "swiftota.postgres.transactions", attributes: .concurrent)

    static func run<T: Sendable>(_ work: () throws -> T) async throws -> T {
        try await withoutActuallyEscaping(work) { work in
            let lent = Lent(work)
            return try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    let result: Result<T, any Error>
                    do {
                        let work = lent.take()
                        result = .success(try work())
                    } catch {
                        result = .failure(error)
                    }
                    continuation.resume(with: result)
                }
            }
        }
    }

    /// The closure, held until the thread takes it; unchecked because exactly one thread takes it, once.
    private final class Lent<T>: @unchecked Sendable {
        private var work: (() throws -> T)?

        init(_ work: @escaping () throws -> T) { self.work = work }

        func take() -> () throws -> T {
            defer { work = nil }
            return work!
        }
    }
}
