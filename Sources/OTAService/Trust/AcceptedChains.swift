import Crypto
import Foundation

// The client certificate chains the gateway accepted (GatewayTrust.swift). Validating a chain (X.509 parsing, path
// building, P-256 signatures) costs each TLS handshake a hop to the trust executor and back plus the work itself;
// devices reconnect with the same certificates over and over (every update reboots them), so an acceptance is
// remembered and the next handshake with the same chain is answered on its event loop.
//
// What keeps that safe: only acceptances through a validated chain are kept (a refusal is judged afresh every time,
// and a client cannot add entries without a chain that was accepted); an entry counts only within its generation —
// every registry change starts a new one — and while the time is inside the validity of every certificate of the
// validated chain; the key is the whole presented chain, so a different intermediate is a different entry. The
// TLS handshake itself (the client proving it holds the key) happens every time: only the chain check is skipped.

struct AcceptedChains {
    /// At most this many are kept (about 100 bytes each); when full they are all forgotten, and the next handshakes
    /// are judged afresh as they would be without this.
    static let capacity = 100_000

    /// SHA-256 over each certificate's length (4 bytes, big-endian) and bytes, leaf first.
    struct Key: Hashable {
        let digest: SHA256Digest

        init(_ chain: [[UInt8]]) {
            var hash = SHA256()
            for certificate in chain {
                let count = UInt32(truncatingIfNeeded: certificate.count)
                hash.update(data: (0..<4).map { UInt8(truncatingIfNeeded: count >> (24 - 8 * $0)) })
                hash.update(data: certificate)
            }
            digest = hash.finalize()
        }
    }

    struct Acceptance {
        /// The thing a registration binds the certificate to; nil lets its CN name the client.
        let boundName: String?
        let validity: ClosedRange<Date>
        let generation: UInt64
    }

    /// Advanced by every registry change: acceptances of an earlier generation are not remembered.
    private(set) var generation: UInt64 = 0
    private var entries: [Key: Acceptance] = [:]

    var count: Int { entries.count }

    /// `key`'s acceptance when it was judged against the current trust and `time` is inside its validity.
    func acceptance(of key: Key, at time: Date) -> Acceptance? {
        guard let entry = entries[key], entry.generation == generation, entry.validity.contains(time) else {
            return nil
        }
        return entry
    }

    /// Remembers an acceptance judged against generation `judgedIn`; nothing when the trust changed meanwhile.
    mutating func remember(_ key: Key, boundName: String?, during validity: ClosedRange<Date>, judgedIn: UInt64) {
        guard judgedIn == generation else { return }
        if entries.count >= Self.capacity { entries.removeAll() }
        entries[key] = Acceptance(boundName: boundName, validity: validity, generation: judgedIn)
    }

    /// A registry change: every acceptance is judged again.
    mutating func forgetAll() {
        generation &+= 1
        entries.removeAll()
    }
}
