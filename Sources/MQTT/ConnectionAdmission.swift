// The server's count of connections that have not authenticated yet, by source address: a new connection is
// admitted only under both caps, and every connection shed (at admission or at a deadline) is counted and logged
// here, in one place, so the numbers the metrics will export are the ones the log talks about.
import Logging
import NIOConcurrencyHelpers
import NIOCore

final class ConnectionAdmission: Sendable {
    private struct State {
        var unauthenticated = 0
        var byAddress: [String: Int] = [:]
        var shed = MQTTShedCounts()
    }

    private let limits: MQTTAdmissionLimits
    private let log: RateLimitedLog
    private let state = NIOLockedValueBox(State())

    init(limits: MQTTAdmissionLimits, logger: Logger) {
        self.limits = limits
        self.log = RateLimitedLog(logger: logger, interval: limits.shedLogInterval)
    }

    /// Counts a new connection from `address` as unauthenticated, or sheds it when a cap is reached. After a true,
    /// the caller owes exactly one `release(address:)`.
    func admit(address: String, peer: String) -> Bool {
        let refusal: MQTTShedReason? = state.withLockedValue { state in
            if state.unauthenticated >= limits.maximumUnauthenticated { return .unauthenticatedLimit }
            if state.byAddress[address, default: 0] >= limits.maximumUnauthenticatedPerAddress {
                return .perAddressLimit
            }
            state.unauthenticated += 1
            state.byAddress[address, default: 0] += 1
            return nil
        }
        guard let refusal else { return true }
        shed(refusal, peer: peer)
        return false
    }

    /// The connection authenticated or closed: it no longer counts against the caps.
    func release(address: String) {
        state.withLockedValue { state in
            state.unauthenticated -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }

    /// Counts and logs (rate-limited) a connection closed before it authenticated.
    func shed(_ reason: MQTTShedReason, peer: String) {
        let counts = state.withLockedValue { state in
            state.shed[reason] += 1
            return state.shed
        }
        log.warning(
            "connection shed before authentication", key: reason.rawValue,
            metadata: ["reason": "\(reason.rawValue)", "peer": "\(peer)", "shedTotal": "\(counts[reason])"])
    }

    /// Logs (rate-limited) a connection that failed before it authenticated: the peer's doing, not shed.
    func failed(_ error: Error, peer: String) {
        log.warning(
            "connection failed before authentication", key: "error",
            metadata: ["error": "\(error)", "peer": "\(peer)"])
    }

    var shedCounts: MQTTShedCounts { state.withLockedValue { $0.shed } }

    var unauthenticatedCount: Int { state.withLockedValue { $0.unauthenticated } }
}

/// The whole pipeline of a connection refused at admission: it closes as soon as the channel is up, before any
/// TLS work is spent on it.
final class CloseOnActiveHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
