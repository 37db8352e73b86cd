import Foundation

// The default file store, in the data directory: `<root>/<first two hex digits>/<sha256 hex>`. A blob is written
// to a temporary file, synced and renamed into place, so a crash never leaves a partial blob under a valid name;
// storing an existing blob again is a no-op. The service serves these files on its own HTTPS port (no presigned
// URLs).

public struct LocalFileStore: FileStore {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    public var summary: String { "local \(root)" }

    public func path(of id: String) -> String { root + "/" + id.prefix(2) + "/" + id }

    public func check() async throws {
        guard FileManager.default.isWritableFile(atPath: root) else {
            throw OTAServiceError.internalError("the file store \(root) is not writable")
        }
    }

    public func put(_ bytes: [UInt8], id: String) async throws -> FileLocation {
        let target = path(of: id)
        // An intact blob is kept; a damaged one (its SHA-256 differs) is replaced by storing the right bytes again.
        if let existing = FileManager.default.contents(atPath: target), sha256Hex([UInt8](existing)) == id {
            return .local
        }
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
        return .local
    }

    /// The blob's bytes, checked against its id: a blob damaged on disk is refused, never served.
    public func contents(of file: StoredFile) async throws -> [UInt8] {
        if let location = file.location {
            throw OTAServiceError.unavailable(
                "file \(file.id) lives in \(location), but the service runs with the file store \(summary)")
        }
        // The size first: a blob grown on disk is not read into memory to be refused afterwards.
        let size = (try? FileManager.default.attributesOfItem(atPath: path(of: file.id))[.size] as? NSNumber)??
            .int64Value
        guard let size else { throw OTAServiceError.notFound("the content of file \(file.id) in \(summary)") }
        guard size == file.size else {
            throw OTAServiceError.internalError(
                "file \(file.id) is damaged in \(summary): \(size) bytes on disk, \(file.size) recorded")
        }
        guard let data = FileManager.default.contents(atPath: path(of: file.id)) else {
            throw OTAServiceError.notFound("the content of file \(file.id) in \(summary)")
        }
        let bytes = [UInt8](data)
        guard sha256Hex(bytes) == file.id else {
            throw OTAServiceError.internalError("file \(file.id) is damaged in \(summary): its SHA-256 differs")
        }
        return bytes
    }

    public func presignedURL(for file: StoredFile, expiresIn seconds: Int, now: Date) throws -> String? { nil }
}
