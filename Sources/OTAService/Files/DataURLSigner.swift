import Crypto
import ESP32Formats
import Foundation

// Short-lived URLs for the service's own HTTPS data plane: `<base>/data/<file id>?thing=…&expires=…&signature=…`,
// the signature an HMAC-SHA256 under a key only the service holds (DATA/data-url.key, 0600, made at first start
// like the admin token). It binds the file, the thing it was issued to and the expiry, so a leaked URL stops
// working when it expires and cannot be altered to fetch another file or to live longer. The FreeRTOS agent sends
// no credentials over HTTP (aws-ota-wire.md §8.1): the URL is the whole authorization.

public struct DataURLSigner: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// The key in `path`, created first when missing (32 random bytes as hex, mode 0600; refused when others can
    /// read it).
    public static func openOrCreate(path: String) throws -> DataURLSigner {
        _ = try TokenFile.openOrCreate(path: path)
        return DataURLSigner(key: SymmetricKey(data: Array(try TokenFile.read(path).utf8)))
    }

    /// The query of a URL for `fileID` issued to `thing`, valid until `expires` (seconds since 1970).
    public func query(fileID: String, thing: String, expires: Int64) -> String {
        "thing=\(thing)&expires=\(expires)&signature=\(signature(fileID: fileID, thing: thing, expires: expires))"
    }

    /// Checks a presented URL's parts at `now`; throws `.forbidden` with the reason when it does not hold.
    public func verify(fileID: String, thing: String?, expires: String?, signature: String?, now: Int64)
        throws(OTAServiceError)
    {
        guard let thing, let expiresText = expires, let expires = Int64(expiresText), let signature,
            let presented = hexBytes(signature), presented.count == 32
        else {
            throw .forbidden("the data URL lacks its thing, expiry or signature")
        }
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                presented, authenticating: Self.message(fileID: fileID, thing: thing, expires: expires), using: key)
        else {
            throw .forbidden("the data URL's signature does not match (altered, or issued by another service)")
        }
        guard now < expires else { throw .forbidden("the data URL expired; ask for the job document again") }
    }

    private func signature(fileID: String, thing: String, expires: Int64) -> String {
        hexString(
            HMAC<SHA256>.authenticationCode(
                for: Self.message(fileID: fileID, thing: thing, expires: expires), using: key))
    }

    private static func message(fileID: String, thing: String, expires: Int64) -> [UInt8] {
        Array("swiftota-data-url\n\(fileID)\n\(thing)\n\(expires)".utf8)
    }
}
