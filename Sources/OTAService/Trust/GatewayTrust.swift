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

    typealias Judge =
        @Sendable ([[UInt8]], DeviceTrustSnapshot, Date) async
        -> (decision: DeviceTrustDecision, reusableDuring: ClosedRange<Date>?)

    private let state: Mutex<State>
    /// `DeviceTrustPolicy.judge`; a test may wrap it to change the trust while a chain is being judged.
    private let judge: Judge

    public convenience init(serviceCA: Certificate) {
        self.init(serviceCA: serviceCA) { await DeviceTrustPolicy.judge(chain: $0, snapshot: $1, at: $2) }
    }

    init(serviceCA: Certificate, judge: @escaping Judge) {
        state = Mutex(State(snapshot: DeviceTrustSnapshot(serviceCA: serviceCA)))
        self.judge = judge
    }

    /// Reads of the store `load` makes before it gives up on a registry that keeps changing.
    static let loadAttempts = 8

    /// Replaces the snapshot with what the store holds. A change applied while the store is being read (a local
    /// registry write, a cluster event) may be missing from what was read, and replacing the snapshot would undo it
    /// — a revocation, a CA's deactivation: the store is read again until no change came in between.
    public func load(from store: any OTAStore) async throws {
        for _ in 0..<Self.loadAttempts {
            let (before, serviceCA) = state.withLock { ($0.accepted.generation, $0.snapshot.serviceCA) }
            let (authorities, certificates) = try await store.read { reader in
                (try reader.caCertificates(), try reader.deviceCertificates())
            }
            // Built outside the lock: it parses every registered certificate, and handshakes wait on the lock.
            let fresh = DeviceTrustSnapshot(serviceCA: serviceCA, authorities: authorities, certificates: certificates)
            let replaced = state.withLock { state in
                guard state.accepted.generation == before else { return false }
                state.change { $0 = fresh }
                return true
            }
            if replaced { return }
        }
        throw OTAServiceError.unavailable(
            "the registry changed during each of \(Self.loadAttempts) reads of the gateway's trust; not reloaded")
    }

    public func apply(_ change: TrustChange) {
        state.withLock { state in state.change { $0.apply(change) } }
    }

    public var current: DeviceTrustSnapshot { state.withLock { $0.snapshot } }

    /// How many accepted chains are remembered now (for tests).
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
        // Certificate validity is about real time, not the engine's clock (which tests move by hand).
        state.withLock { $0.accepted.acceptance(of: AcceptedChains.Key(chain), at: Date()) }
            .map { .trusted(boundName: $0.boundName) }
    }

    /// Judges `chain` afresh: the MQTT server asks `knownVerdict` first, on the event loop, and comes here on a miss.
    public func evaluate(chain: [[UInt8]]) async -> ClientTrustVerdict {
        let now = Date()
        // The snapshot and its generation together: what is judged against a snapshot a registry change has since
        // replaced is not remembered.
        let (snapshot, generation) = state.withLock { ($0.snapshot, $0.accepted.generation) }
        let (decision, reusable) = await judge(chain, snapshot, now)
        switch decision {
        case .accepted(let thing, _):
            if let reusable {
                let acceptance = AcceptedChains.Acceptance(boundName: thing, validity: reusable)
                state.withLock { $0.accepted.remember(AcceptedChains.Key(chain), acceptance, judgedIn: generation) }
            }
            return .trusted(boundName: thing)
        case .refused(let reason): return .refused(reason)
        }
    }
}
