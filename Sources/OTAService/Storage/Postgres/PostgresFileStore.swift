import Foundation

// File contents in PostgreSQL, for instances that share a database and no bucket (`ota serve --database postgres://…`
// without `--file-store`): every instance reads what any instance stored. Contents are cut into 256 KiB chunks
// ("fileChunk"), written in one transaction with their count ("fileContent") last, so a file is either complete or
// absent; reads go chunk by chunk in one snapshot and are checked against the SHA-256 the file is named by.

public struct PostgresFileStore: FileStore {
    /// What `StoredFile.location` says of a file kept here (nil means the data directory's store).
    public static let location = "postgres"
    static let chunkBytes = 256 * 1024

    let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public var summary: String { "postgres \(store.url)" }

    public func check() async throws {
        _ = try await store.transaction(.snapshot) { try $0.run("SELECT 1") }
    }

    public func put(_ bytes: [UInt8], id: String) async throws -> FileLocation {
        let chunkBytes = Self.chunkBytes
        try await store.transaction(.independentWrite) { transaction in
            // Two instances storing the same upload: the lock on this id makes the second find the first's copy.
            try transaction.run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(id)])
            let existing = try transaction.run(
                #"SELECT "size" FROM "fileContent" WHERE "fileID" = $1"#, [.text(id)]
            ).rows.first
            if existing != nil { return }
            try transaction.run(#"DELETE FROM "fileChunk" WHERE "fileID" = $1"#, [.text(id)])
            var position: Int64 = 0
            for start in stride(from: 0, to: bytes.count, by: chunkBytes) {
                let chunk = Array(bytes[start..<min(start + chunkBytes, bytes.count)])
                try transaction.run(
                    #"INSERT INTO "fileChunk" ("fileID", "position", "bytes") VALUES ($1, $2, $3)"#,
                    [.text(id), .integer(position), .bytes(chunk)])
                position += 1
            }
            try transaction.run(
                #"INSERT INTO "fileContent" ("fileID", "size", "chunkCount") VALUES ($1, $2, $3)"#,
                [.text(id), .integer(Int64(bytes.count)), .integer(position)])
        }
        return FileLocation(location: Self.location)
    }

    public func contents(of file: StoredFile) async throws -> [UInt8] {
        guard file.location == Self.location else {
            throw OTAServiceError.unavailable(
                "file \(file.id) lives in \(file.location ?? "the data directory's store"), but the service runs "
                    + "with the file store \(summary)")
        }
        let summary = summary
        return try await store.transaction(.snapshot) { transaction in
            let content = try transaction.run(
                #"SELECT "size", "chunkCount" FROM "fileContent" WHERE "fileID" = $1"#, [.text(file.id)]
            ).rows.first?.makeRandomAccess()
            guard let content else { throw OTAServiceError.notFound("the content of file \(file.id) in \(summary)") }
            let size = try content[0].decode(Int64.self)
            let chunkCount = try content[1].decode(Int64.self)
            guard size == file.size else {
                throw OTAServiceError.internalError(
                    "file \(file.id) is damaged in \(summary): \(size) bytes stored, \(file.size) recorded")
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(size))
            for position in 0..<chunkCount {
                let chunk = try transaction.run(
                    #"SELECT "bytes" FROM "fileChunk" WHERE "fileID" = $1 AND "position" = $2"#,
                    [.text(file.id), .integer(position)]
                ).rows.first?.makeRandomAccess().first?.bytes
                guard let chunk, bytes.count + chunk.readableBytes <= Int(size) else {
                    throw OTAServiceError.internalError("file \(file.id) is damaged in \(summary): a chunk is missing")
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
            guard bytes.count == Int(size), sha256Hex(bytes) == file.id else {
                throw OTAServiceError.internalError("file \(file.id) is damaged in \(summary): its SHA-256 differs")
            }
            return bytes
        }
    }

    public func presignedURL(for file: StoredFile, expiresIn seconds: Int, now: Date) throws -> String? { nil }
}
