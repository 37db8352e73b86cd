import Crypto
import ESP32Formats

// The few operations every secret of the service goes through: made from the system's random generator, kept as
// a SHA-256 digest, compared in constant time. Tokens (admin, metrics, API), session cookies, CSRF tokens, salts.

enum Secrets {
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `count` random bytes as lowercase hex.
    static func randomHex(bytes count: Int) -> String { hexString(randomBytes(count)) }

    /// SHA-256 of the text's UTF-8, lowercase hex: how a token or cookie is looked up without being stored.
    static func digest(_ text: String) -> String { hexString(SHA256.hash(data: Array(text.utf8))) }

    /// Equal length and equal bytes, in a time that depends on the length only.
    static func equal<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
