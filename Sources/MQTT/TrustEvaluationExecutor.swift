// Client certificate checks run on an executor of their own, never on Swift's shared concurrency pool: a TLS
// handshake must not wait behind the gateway's request work (a reconnect storm) or behind whatever else holds the
// pool's few threads (two on a two-core machine). A serial queue is enough: one P-256 chain check takes a fraction
// of a millisecond.
import Dispatch
import NIOCore

final class TrustEvaluationExecutor: TaskExecutor {
    static let shared = TrustEvaluationExecutor()
    private let queue = DispatchQueue(label: "swiftota.mqtt.client-trust")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension ClientCertificateTrust {
    /// `evaluate(chain:)` on the trust executor, its verdict delivered on `eventLoop`; a known verdict at once.
    func evaluate(chain: [[UInt8]], on eventLoop: any EventLoop) -> EventLoopFuture<ClientTrustVerdict> {
        if let known = knownVerdict(chain: chain) { return eventLoop.makeSucceededFuture(known) }
        let promise = eventLoop.makePromise(of: ClientTrustVerdict.self)
        Task(executorPreference: TrustEvaluationExecutor.shared) { promise.succeed(await evaluate(chain: chain)) }
        return promise.futureResult
    }
}
