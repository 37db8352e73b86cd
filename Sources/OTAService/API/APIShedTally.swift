// Counts and logs (rate-limited: a flood must not flood the log) the API connections closed at a deadline.
import Logging
import MQTT
import Synchronization

final class APIShedTally: Sendable {
    private let counts = Mutex(APIShedCounts())
    private let log: RateLimitedLog

    init(logger: Logger, logInterval: Duration = .seconds(10)) {
        log = RateLimitedLog(logger: logger, interval: logInterval)
    }

    func shed(_ reason: APIShedReason, peer: String) {
        let total = counts.withLock { counts in
            counts[reason] += 1
            return counts[reason]
        }
        log.warning(
            "API connection closed at a deadline", key: reason.rawValue,
            metadata: ["reason": "\(reason.rawValue)", "peer": "\(peer)", "shedTotal": "\(total)"])
    }

    var current: APIShedCounts { counts.withLock { $0 } }
}
