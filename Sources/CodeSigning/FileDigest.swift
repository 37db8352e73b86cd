// SHA-256 of a file read in chunks into one reused buffer: constant memory for any file size, and the data is
// hashed while it is still in the CPU cache (reading a whole file first and hashing it after is ~2x slower for 4 MiB).
import Crypto
import Foundation

extension CodeSigner {
    static let readChunkSize = 256 * 1024

    public static func digest(ofFileAt path: String) throws(CodeSigningError) -> SHA256.Digest {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: readChunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return hasher.finalize() }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    public static func sign(fileAt path: String, with key: some CodeSigningKey) throws(CodeSigningError)
        -> CodeSignature
    {
        try sign(digest: digest(ofFileAt: path), with: key)
    }

    public static func verify(
        fileAt path: String, signature: CodeSignature, publicKey: P256.Signing.PublicKey
    ) throws(CodeSigningError) {
        guard publicKey.isValidSignature(signature.signature, for: try digest(ofFileAt: path)) else {
            throw .signatureMismatch
        }
    }
}
