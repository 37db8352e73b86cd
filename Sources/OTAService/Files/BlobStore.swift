import Crypto
import Foundation

// Content-addressed file storage: `<root>/<first two hex digits>/<sha256 hex>`. A blob is written to a temporary
// file, synced and renamed into place, so a crash never leaves a partial blob under a valid name; rewriting an
// existing blob is a no-op.

public struct BlobStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    public static func id(of bytes: [UInt8]) -> String {
        sha256Hex(bytes)
    }

    public func path(of id: String) -> String { root + "/" + id.prefix(2) + "/" + id }

    /// Stores `bytes` and returns their id.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> String {
        let id = Self.id(of: bytes)
        let target = path(of: id)
        if FileManager.default.fileExists(atPath: target) { return id }
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = target + ".tmp-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw OTAServiceError.internalError("cannot write \(temporary)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, target) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw OTAServiceError.internalError("cannot move a blob into place: \(String(cString: strerror(errno)))")
        }
        return id
    }

    /// The blob's bytes, checked against its id: a blob damaged on disk is refused, never served.
    public func get(_ id: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(of: id)) else {
            throw OTAServiceError.notFound("blob \(id)")
        }
        let bytes = [UInt8](data)
        guard Self.id(of: bytes) == id else { throw OTAServiceError.internalError("blob \(id) is damaged on disk") }
        return bytes
    }
}
