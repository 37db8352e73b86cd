import CodeSigning
import Crypto
import ESP32Formats
import Foundation

// A bearer token kept in a file: 32 random bytes, hex, created at the first start with mode 0600 (like a private
// key, it is refused when group or others can read it), compared in constant time. DATA/admin-token opens the
// management API, DATA/metrics-token only /metrics (a scraper gets no more than it needs).

public struct TokenFile: Sendable {
    public let path: String
    private let digest: [UInt8]

    /// Reads the token at `path`, creating it first if it does not exist. `created` says which happened.
    public static func openOrCreate(path: String) throws -> (token: TokenFile, created: Bool) {
        if !FileManager.default.fileExists(atPath: path) {
            try KeyFiles.writeFile(Array((Secrets.randomHex(bytes: 32) + "\n").utf8), to: path, mode: 0o600)
            return (try TokenFile(path: path), true)
        }
        return (try TokenFile(path: path), false)
    }

    public init(path: String) throws {
        self.path = path
        let text = try Self.read(path)
        digest = Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// The token's text, for clients on the same machine (the CLI with --data-dir).
    public static func read(_ path: String) throws -> String {
        let mode = try KeyFiles.fileMode(path)
        guard mode & 0o077 == 0 else {
            throw OTAServiceError.unauthorized(
                "\(path) is readable by others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it")
        }
        let text = String(decoding: try KeyFiles.readFile(path), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count >= 32 else { throw OTAServiceError.unauthorized("\(path) does not hold a token") }
        return text
    }

    /// Constant-time comparison of SHA-256 digests, so timing says nothing about the token.
    public func matches(_ presented: Substring) -> Bool {
        Secrets.equal(digest, Array(SHA256.hash(data: Array(presented.utf8))))
    }
}
