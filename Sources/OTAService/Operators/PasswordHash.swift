import Crypto
import Foundation
import _CryptoExtras

// Passwords as scrypt hashes (memory-hard: each guess costs 32 MiB and tens of milliseconds, so a stolen database
// is expensive to attack): `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, a 16-byte random salt, 32 bytes of
// output. The parameters travel with the hash, so they can be raised later without breaking stored passwords; the
// ones read back are bounded, so a damaged row cannot make a login allocate gigabytes.

public enum PasswordHash {
    public struct Parameters: Sendable, Equatable {
        public var rounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public init(rounds: Int, blockSize: Int, parallelism: Int) {
            self.rounds = rounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB per hash (the parameters OWASP lists for scrypt).
        public static let standard = Parameters(rounds: 1 << 15, blockSize: 8, parallelism: 1)
    }

    /// The most memory a stored hash may make a verification use (128 × N × r bytes): twice the standard cost.
    static let maximumMemory = 64 << 20

    /// Passwords shorter than this are refused when set.
    public static let minimumLength = 12
    /// And longer than this many UTF-8 bytes (scrypt would take any length; a megabyte "password" is an attack).
    public static let maximumLength = 1024

    public static func make(_ password: String, parameters: Parameters = .standard) throws -> String {
        let salt = Secrets.randomBytes(16)
        let hash = try derive(password, salt: salt, parameters: parameters)
        return [
            "scrypt", String(parameters.rounds), String(parameters.blockSize), String(parameters.parallelism),
            Data(salt).base64EncodedString(), Data(hash).base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Whether `password` is the one `encoded` was made from; false for anything malformed. Constant time in the
    /// hash comparison.
    public static func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: String(parts[4])),
            let expected = Data(base64Encoded: String(parts[5])), expected.count == 32,
            rounds >= 2, rounds & (rounds - 1) == 0, (1...32).contains(blockSize), (1...4).contains(parallelism),
            128 * rounds * blockSize <= maximumMemory, password.utf8.count <= maximumLength
        else { return false }
        let parameters = Parameters(rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        guard let derived = try? derive(password, salt: Array(salt), parameters: parameters) else { return false }
        return Secrets.equal(derived, expected)
    }

    private static func derive(_ password: String, salt: [UInt8], parameters: Parameters) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: parameters.rounds,
            blockSize: parameters.blockSize, parallelism: parameters.parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
