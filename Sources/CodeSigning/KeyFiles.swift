// Reading and writing P-256 keys in the forms openssl and espsecure use: PKCS#8 and SEC1 private keys (PEM or
// DER), public keys as PEM, DER (SubjectPublicKeyInfo) or the raw 64-byte X‖Y the ESP32 bootloader embeds.
import Crypto
import Foundation

public enum PrivateKeyFormat: String, Sendable, CaseIterable {
    /// `-----BEGIN PRIVATE KEY-----`, what `openssl genpkey` writes.
    case pkcs8PEM = "pkcs8"
    /// `-----BEGIN EC PRIVATE KEY-----`, what `openssl ecparam -genkey` and espsecure write.
    case sec1PEM = "sec1"
    /// PKCS#8 DER.
    case der
}

public enum PublicKeyFormat: String, Sendable, CaseIterable {
    case pem
    case der
    /// 64 bytes X‖Y big-endian: `espsecure extract-public-key --version 1`, embedded in the bootloader.
    case raw
}

public enum PrivateKeyCoding {
    /// Parses a private key in any supported encoding; anything but P-256 is `unsupportedKeyType`.
    public static func decode(_ bytes: [UInt8]) throws(CodeSigningError) -> P256.Signing.PrivateKey {
        let der: [UInt8]
        if PEM.looksLikePEM(bytes) {
            let documents = try PEM.documents(String(decoding: bytes, as: UTF8.self))
            guard let document = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) else {
                throw .malformedKey(
                    "the PEM file holds \(documents.map(\.discriminator).joined(separator: ", ")), no private key")
            }
            switch document.discriminator {
            case "PRIVATE KEY", "EC PRIVATE KEY": der = document.derBytes
            case "RSA PRIVATE KEY": throw .unsupportedKeyType(found: "RSA")
            case "ENCRYPTED PRIVATE KEY":
                throw .malformedKey("the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
            default: throw .unsupportedKeyType(found: document.discriminator)
            }
        } else {
            der = bytes
        }
        try KeyInspection.privateKeyAlgorithm(der: der).requireP256()
        do {
            return try P256.Signing.PrivateKey(derRepresentation: der)
        } catch {
            throw .malformedKey("the P-256 key structure is invalid")
        }
    }

    public static func encode(_ key: P256.Signing.PrivateKey, format: PrivateKeyFormat) -> [UInt8] {
        switch format {
        case .pkcs8PEM: return Array(key.pemRepresentation.utf8) + [0x0A]
        case .sec1PEM: return Array(PEM.encode(type: "EC PRIVATE KEY", der: Array(key.x963SEC1DER)).utf8)
        case .der: return Array(key.derRepresentation)
        }
    }
}

public enum PublicKeyCoding {
    /// Parses a public key given as PEM, DER, the 64-byte raw form, a certificate, or a private key (its public half).
    public static func decode(_ bytes: [UInt8]) throws(CodeSigningError) -> P256.Signing.PublicKey {
        if bytes.count == 64 {
            do {
                return try P256.Signing.PublicKey(rawRepresentation: bytes)
            } catch {
                throw .malformedKey("64 bytes, but not a point on P-256")
            }
        }
        var der = bytes
        if PEM.looksLikePEM(bytes) {
            let text = String(decoding: bytes, as: UTF8.self)
            let documents = try PEM.documents(text)
            if documents.contains(where: { $0.discriminator == "CERTIFICATE" }) {
                return try CertificateCoding.decode(bytes).p256PublicKey()
            }
            if documents.contains(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) {
                return try PrivateKeyCoding.decode(bytes).publicKey
            }
            guard let document = documents.first(where: { $0.discriminator == "PUBLIC KEY" }) else {
                throw .malformedKey(
                    "the PEM file holds \(documents.map(\.discriminator).joined(separator: ", ")), no public key")
            }
            der = document.derBytes
        }
        try KeyInspection.publicKeyAlgorithm(der: der).requireP256()
        do {
            return try P256.Signing.PublicKey(derRepresentation: der)
        } catch {
            throw .malformedKey("the P-256 public key is not a point on the curve")
        }
    }

    public static func encode(_ key: P256.Signing.PublicKey, format: PublicKeyFormat) -> [UInt8] {
        switch format {
        case .pem: return Array(key.pemRepresentation.utf8) + [0x0A]
        case .der: return Array(key.derRepresentation)
        case .raw: return Array(key.rawRepresentation)
        }
    }
}

extension P256.Signing.PrivateKey {
    /// SEC1 ECPrivateKey DER with the named curve and public key, as openssl writes it.
    var x963SEC1DER: [UInt8] {
        // SEQUENCE { INTEGER 1, OCTET STRING d, [0] { OID prime256v1 }, [1] { BIT STRING 04‖X‖Y } }
        let scalar = Array(rawRepresentation)
        let point = Array(publicKey.x963Representation)
        let curve: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        let body: [UInt8] =
            [0x02, 0x01, 0x01] + [0x04, UInt8(scalar.count)] + scalar + [0xA0, UInt8(curve.count)] + curve
            + [0xA1, UInt8(point.count + 3), 0x03, UInt8(point.count + 1), 0x00] + point
        return [0x30, 0x77] + body
    }
}

/// Key files on disk. Private keys are written 0600 and, like ssh, refused when group or others can read them.
public enum KeyFiles {
    public static func readPrivateKey(
        at path: String, allowInsecurePermissions: Bool = false
    ) throws(CodeSigningError) -> P256.Signing.PrivateKey {
        if !allowInsecurePermissions {
            let mode = try fileMode(path)
            if mode & 0o077 != 0 {
                throw .insecureKeyPermissions(path: path, mode: String(mode & 0o777, radix: 8))
            }
        }
        return try PrivateKeyCoding.decode(try readFile(path))
    }

    public static func readPublicKey(at path: String) throws(CodeSigningError) -> P256.Signing.PublicKey {
        try PublicKeyCoding.decode(try readFile(path))
    }

    public static func writePrivateKey(
        _ key: P256.Signing.PrivateKey, to path: String, format: PrivateKeyFormat = .pkcs8PEM
    ) throws(CodeSigningError) {
        try writeFile(PrivateKeyCoding.encode(key, format: format), to: path, mode: 0o600)
    }

    public static func writePublicKey(
        _ key: P256.Signing.PublicKey, to path: String, format: PublicKeyFormat = .pem
    ) throws(CodeSigningError) {
        try writeFile(PublicKeyCoding.encode(key, format: format), to: path, mode: 0o644)
    }

    public static func fileMode(_ path: String) throws(CodeSigningError) -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        } catch {
            throw .unreadableFile(path: path, reason: "no such file or no access")
        }
    }

    public static func readFile(_ path: String) throws(CodeSigningError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableFile(path: path, reason: "no such file or no access")
        }
        return Array(data)
    }

    /// Writes through a temporary file created with `mode` from the start (a private key is never briefly
    /// world-readable), then renames it into place.
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws(CodeSigningError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else { throw .unwritableFile(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result <= 0 { return false }
                written += result
            }
            return fchmod(descriptor, mode) == 0 && fsync(descriptor) == 0
        }
        close(descriptor)
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritableFile(path: path, reason: reason)
        }
    }
}
