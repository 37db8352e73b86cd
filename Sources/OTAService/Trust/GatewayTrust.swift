import CodeSigning
import Foundation
import MQTT
import Synchronization
import X509

// The device gateway's live trust: the current snapshot, loaded from the store at start and kept current by the
// registry after each write it commits (applied in memory, so nothing can fail between a revocation's commit and
// the gateway refusing the certificate). Every TLS handshake judges against it with the wall clock.
//
// Chains it accepted are remembered (AcceptedChains.swift): a device that reconnects with the same certificates —
// after an update's reboot, a dropped link — is not validated again while the snapshot is unchanged and the time
// is inside every validated certificate's validity. The snapshot, its generation and the remembered chains change
// under one lock, so no handshake can find an acceptance from before a revocation.

public final class GatewayTrust: ClientCertificateTrust {
    private struct State {
        var snapshot: DeviceTrustSnapshot
        var accepted = AcceptedChains()

        /// A registry change: what was accepted before it is judged again.
        mutating func change(_ body: (inout DeviceTrustSnapshot) -> Void) {
            body(&snapshot)
            accepted.forgetAll()
        }
    }

    private let state: Mutex<State>

    public init(serviceCA: Certificate) {
        state = Mutex(State(snapshot: DeviceTrustSnapshot(serviceCA: serviceCA)))
    }

    /// Replaces the snapshot with what the store holds.
    public func load(from store: any OTAStore) async throws {
        let (authorities, certificates) = try await store.read { reader in
            (try reader.caCertificates(), try reader.deviceCertificates())
        }
        state.withLock { state in
            state.change { current in
                current = DeviceTrustSnapshot(
                    serviceCA: current.serviceCA, authorities: authorities, certificates: certificates)
            }
        }
    }

    public func apply(_ change: TrustChange) {
        state.withLock { state in state.change { $0.apply(change) } }
    }

    public var current: DeviceTrustSnapshot { state.withLock { $0.snapshot } }

    /// How many accepted chains are remembered now (for tests and the status page's curious).
    public var rememberedChains: Int { state.withLock { $0.accepted.count } }

    /// The things whose live connections `change` cuts off: a revoked certificate's thing; the things of the
    /// certificates linked to a CA that became inactive.
    func things(cutOffBy change: TrustChange) -> [String] {
        switch change {
        case .certificate(let record):
            return record.status == .revoked ? [record.thingName] : []
        case .authority(let record):
            guard record.status == .inactive else { return [] }
            return current.things(linkedTo: record.fingerprint)
        }
    }

    public func knownVerdict(chain: [[UInt8]]) -> ClientTrustVerdict? {
        let key = AcceptedChains.Key(chain)
        let now = Date()
        return state.withLock { $0.accepted.acceptance(of: key, at: now) }.map { .trusted(boundName: $0.boundName) }
    }

    public func evaluate(chain: [[UInt8]]) async -> ClientTrustVerdict {
        let key = AcceptedChains.Key(chain)
        // Certificate validity is about real time, not the engine's clock (which tests move by hand).
        let now = Date()
        let (snapshot, generation, known) = state.withLock { state in
            (state.snapshot, state.accepted.generation, state.accepted.acceptance(of: key, at: now))
        }
        if let known { return .trusted(boundName: known.boundName) }
        let (decision, reusable) = await DeviceTrustPolicy.judge(chain: chain, snapshot: snapshot, at: now)
        switch decision {
        case .accepted(let thing, _):
            if let reusable {
                state.withLock { $0.accepted.remember(key, boundName: thing, during: reusable, judgedIn: generation) }
            }
            return .trusted(boundName: thing)
        case .refused(let reason): return .refused(reason)
        }
    }
}
