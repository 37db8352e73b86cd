import Crypto
import ESP32Formats
import Foundation
import OTAService
import S3
import TestSupport
import Testing

// The file-store contract, run against every store: contents come back byte for byte under their SHA-256 id,
// storing the same content again is a no-op at the same place, and contents changed behind the store's back are
// refused, never returned. The S3 store runs against moto with request authentication on, the PostgreSQL store
// against the real server scripts/test starts.
@Suite(.serialized) struct FileStoreContractTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case local, s3, postgres
        var description: String { rawValue }
    }

    /// A store of `kind`, a way to overwrite what it holds for a file behind its back, and its cleanup.
    struct Subject {
        let store: any FileStore
        let overwrite: (StoredFile, [UInt8]) async throws -> Void
        /// Where a file this store never held would say it is.
        let missing: FileLocation
        let keepAlive: [Any]
    }

    static func subject(_ kind: Kind) async throws -> Subject {
        switch kind {
        case .local:
            let directory = try TemporaryDirectory("contract")
            let store = try LocalFileStore(root: directory.path("blobs"))
            return Subject(
                store: store,
                overwrite: { file, bytes in try Data(bytes).write(to: URL(fileURLWithPath: store.path(of: file.id))) },
                missing: .local, keepAlive: [directory])
        case .s3:
            let moto = try await MotoServer.start()
            #expect(try await moto.aws(["s3", "mb", "s3://contract"]).status == 0)
            let client = S3Client(
                endpoint: try S3Endpoint(url: moto.endpointURL, region: "us-east-1", pathStyle: true),
                credentials: S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey))
            return Subject(
                store: S3FileStore(client: client, location: try S3Location(bucket: "contract", prefix: "files")),
                overwrite: { file, bytes in
                    let key = String(try #require(file.location).dropFirst("s3://contract/".count))
                    _ = try await client.putObject(bucket: "contract", key: key, bytes: bytes)
                },
                missing: FileLocation(location: "s3://contract/files/none", etag: "x"), keepAlive: [moto])
        case .postgres:
            let directory = try TemporaryDirectory("contract")
            let database = try await PostgresTestDatabase.store(for: directory)
            return Subject(
                store: PostgresFileStore(store: database),
                overwrite: { file, bytes in try await PostgresTestDatabase.overwrite(file.id, with: bytes, in: database)
                },
                missing: FileLocation(location: PostgresFileStore.location), keepAlive: [directory, database])
        }
    }

    static func record(_ bytes: [UInt8], at location: FileLocation) -> StoredFile {
        StoredFile(
            id: hexString(SHA256.hash(data: bytes)), name: "f.bin", size: Int64(bytes.count), kind: .data,
            createdAt: 0, location: location)
    }

    @Test(arguments: Kind.allCases)
    func contentsComeBackUnderTheirIdAndStoringAgainIsANoOp(kind: Kind) async throws {
        let subject = try await Self.subject(kind)
        defer { (subject.keepAlive.first as? MotoServer)?.stop() }
        try await subject.store.check()
        var generator = SeededGenerator(seed: 3)
        for size in [1, 4096, 1_500_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let id = hexString(SHA256.hash(data: bytes))
            let place = try await subject.store.put(bytes, id: id)
            #expect(try await subject.store.put(bytes, id: id) == place)
            #expect(try await subject.store.contents(of: Self.record(bytes, at: place)) == bytes)
            let url = try subject.store.presignedURL(
                for: Self.record(bytes, at: place), expiresIn: 60, now: Date())
            #expect((url != nil) == (kind == .s3), "only a bucket presigns")
            if kind == .postgres {
                #expect(
                    try await PostgresTestDatabase.chunkCount(of: id, in: subject.store) == (size + 262_143) / 262_144)
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func contentsChangedBehindTheStoresBackAreRefused(kind: Kind) async throws {
        let subject = try await Self.subject(kind)
        defer { (subject.keepAlive.first as? MotoServer)?.stop() }
        let bytes = Array(repeating: UInt8(0x5A), count: 10_000)
        let file = Self.record(bytes, at: try await subject.store.put(bytes, id: hexString(SHA256.hash(data: bytes))))
        try await subject.overwrite(file, bytes.map { $0 ^ 1 })
        await #expect(throws: (any Error).self) { _ = try await subject.store.contents(of: file) }
        // A file the store never held is an error too, not empty contents.
        let never = Self.record([1, 2, 3], at: subject.missing)
        await #expect(throws: (any Error).self) { _ = try await subject.store.contents(of: never) }
    }
}
