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

    @Test func aKnownVerdictSkipsTheEvaluation() throws {
        let loop = EmbeddedEventLoop()
        let trust = CountingTrust(known: .trusted(boundName: "thing-1"))
        let future = trust.evaluate(chain: [[0x30]], on: loop)
        #expect(try future.wait() == .trusted(boundName: "thing-1"))
        #expect(trust.evaluations.load(ordering: .relaxed) == 0)
    }

    @Test func anUnknownChainIsEvaluated() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let trust = CountingTrust(known: nil)
        let verdict = try await trust.evaluate(chain: [[0x30]], on: group.next()).get()
        #expect(verdict == .refused("evaluated"))
        #expect(trust.evaluations.load(ordering: .relaxed) == 1)
    }
}
