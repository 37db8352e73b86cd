import Foundation

/// Runs blocking work (a child process, a polling loop) on its own thread, so that tests waiting for tools do not
/// hold the few threads Swift's cooperative pool has on a small machine.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
