import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import Testing

@testable import MQTT

// A verdict the owner already knows (a chain it accepted before) is delivered on the event loop at once, without
// the evaluation; an unknown chain is evaluated as ever.
@Suite struct KnownVerdictTests {
    final class CountingTrust: ClientCertificateTrust {
        let known: ClientTrustVerdict?
        let evaluations = Atomic<Int>(0)

        init(known: ClientTrustVerdict?) { self.known = known }

        func evaluate(chain: [[UInt8]]) async -> ClientTrustVerdict {
            evaluations.add(1, ordering: .relaxed)
            return .refused("evaluated")
        }

        func knownVerdict(chain: [[UInt8]]) -> ClientTrustVerdict? { known }
    }

    @Test func aKnownVerdictIsDeliveredAtOnceWithoutTheEvaluation() throws {
        let loop = EmbeddedEventLoop()
        let trust = CountingTrust(known: .trusted(boundName: "thing-1"))
        let delivered = NIOLockedValueBox<ClientTrustVerdict?>(nil)
        trust.evaluate(chain: [[0x30]], on: loop).whenSuccess { verdict in delivered.withLockedValue { $0 = verdict } }
        // No tick of the loop has run: the future was complete when it was returned.
        #expect(delivered.withLockedValue { $0 } == .trusted(boundName: "thing-1"))
        #expect(trust.evaluations.load(ordering: .relaxed) == 0)
    }

    @Test func anUnknownChainIsEvaluated() async throws {
        let trust = CountingTrust(known: nil)
        let verdict = try await trust.evaluate(chain: [[0x30]], on: MultiThreadedEventLoopGroup.singleton.next()).get()
        #expect(verdict == .refused("evaluated"))
        #expect(trust.evaluations.load(ordering: .relaxed) == 1)
    }
}
