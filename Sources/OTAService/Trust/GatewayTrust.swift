import CodeSigning
import Foundation
import MQTT
import Synchronization
import X509

// The device gateway's live trust: the current snapshot, loaded from the store at start and kept current by the
// registry after each write it commits (applied in memory, so nothing can fail between a revocation's commit and
// the gateway refusing the certificate). Every TLS handshake judges against it with the wall clock.

public final class GatewayTrust: ClientCertificateTrust {
    private let snapshot: Mutex<DeviceTrustSnapshot>

    public init(serviceCA: Certificate) {
        snapshot = Mutex(DeviceTrustSnapshot(serviceCA: serviceCA))
    }

    /// Replaces the snapshot with what the store holds.
    public func load(from store: any OTAStore) async throws {
        let (authorities, certificates) = try await store.read { reader in
            (try reader.caCertificates(), try reader.deviceCertificates())
        }
        snapshot.withLock { current in
            current = DeviceTrustSnapshot(
                serviceCA: current.serviceCA, authorities: authorities, certificates: certificates)
        }
    }

    public func apply(_ change: TrustChange) {
        snapshot.withLock { $0.apply(change) }
    }

    public var current: DeviceTrustSnapshot { snapshot.withLock { $0 } }

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

    public func evaluate(chain: [[UInt8]]) async -> ClientTrustVerdict {
        // Certificate validity is about real time, not the engine's clock (which tests move by hand).
        switch await DeviceTrustPolicy.evaluate(chain: chain, snapshot: current, at: Date()) {
        case .accepted(let thing, _): return .trusted(boundName: thing)
        case .refused(let reason): return .refused(reason)
        }
    }
}
