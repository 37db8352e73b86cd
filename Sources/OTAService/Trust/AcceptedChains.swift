import Crypto
import Foundation

// The client certificate chains the gateway accepted (GatewayTrust.swift). Validating a chain (X.509 parsing, path
// building, P-256 signatures) costs each TLS handshake a hop to the trust executor and back plus the work itself;
// devices reconnect with the same certificates over and over (every update reboots them), so an acceptance is
// remembered and the next handshake with the same chain is answered on its event loop.
//
// What keeps that safe: only acceptances through a validated chain are kept, and only when the client presented
// nothing the chain does not use (a refusal is judged afresh every time, and one accepted key cannot add more than a
// few entries); every registry change empties the memory and starts a new generation, and an acceptance judged in
// an earlier generation is not kept; an entry counts only while the time is inside the validity of every
// certificate of the validated chain; the key is the whole presented chain, so another intermediate is another
// entry. The TLS handshake itself (the client proving it holds the key) happens every time: only the chain check is
// skipped.

struct AcceptedChains {
    /// At most this many are kept (a few hundred bytes each); when full they are all forgotten, and the next
    /// handshakes are judged afresh as they would be without this.
    static let capacity = 100_000

    /// SHA-256 over each certificate's length (4 bytes, big-endian) and bytes, leaf first. TLS carries a certificate
    /// in at most 2^24 − 1 bytes, so the length always fits.
    struct Key: Hashable {
        let digest: SHA256Digest

        init(_ chain: [[UInt8]]) {
            var hash = SHA256()
            for certificate in chain {
                withUnsafeBytes(of: UInt32(truncatingIfNeeded: certificate.count).bigEndian) {
                    hash.update(bufferPointer: $0)
                }
                hash.update(data: certificate)
            }
            digest = hash.finalize()
        }
    }

    struct Acceptance {
        /// The thing a registration binds the certificate to; nil lets its CN name the client.
        let boundName: String?
        let validity: ClosedRange<Date>
    }

    /// Advanced by every registry change (`forgetAll`).
    private(set) var generation: UInt64 = 0
    private var entries: [Key: Acceptance] = [:]

    var count: Int { entries.count }

    /// `key`'s acceptance when `time` is inside its validity.
    func acceptance(of key: Key, at time: Date) -> Acceptance? {
        guard let entry = entries[key], entry.validity.contains(time) else { return nil }
        return entry
    }

    /// Remembers an acceptance judged against generation `judgedIn`; nothing when the trust changed meanwhile.
    mutating func remember(_ key: Key, _ acceptance: Acceptance, judgedIn: UInt64) {
        guard judgedIn == generation else { return }
        if entries.count >= Self.capacity { entries.removeAll() }
        entries[key] = acceptance
    }

    /// A registry change: every acceptance is judged again.
    mutating func forgetAll() {
        generation &+= 1
        entries.removeAll()
    }
}
