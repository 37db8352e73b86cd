import Crypto
import ESP32Formats
import Foundation
import OTAService
import Synchronization
import TestSupport
import Testing

/// A local store that counts what is read from it.
final class CountingStore: FileStore {
    let local: LocalFileStore
    let reads = Mutex(0)

    init(_ local: LocalFileStore) { self.local = local }

    var summary: String { local.summary }
    func check() async throws { try await local.check() }
    func put(_ bytes: [UInt8], id: String) async throws -> FileLocation { try await local.put(bytes, id: id) }
    func contents(of file: StoredFile) async throws -> [UInt8] {
        reads.withLock { $0 += 1 }
        return try await local.contents(of: file)
    }
    func presignedURL(for file: StoredFile, expiresIn seconds: Int, now: Date) throws -> String? { nil }
}

@Suite struct FileContentCacheTests {
    static func stored(_ store: CountingStore, size: Int, seed: UInt8) async throws -> (StoredFile, [UInt8]) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0) &+ seed }
        let id = hexString(SHA256.hash(data: bytes))
        _ = try await store.put(bytes, id: id)
        return (StoredFile(id: id, name: "f\(seed)", size: Int64(size), kind: .data, createdAt: 0), bytes)
    }

    @Test func manyDevicesAskingAtOnceCostOneStoreRead() async throws {
        let directory = try TemporaryDirectory("cache")
        let store = CountingStore(try LocalFileStore(root: directory.path("blobs")))
        let cache = FileContentCache(store: store, capacityBytes: 1 << 20)
        let (file, bytes) = try await Self.stored(store, size: 100_000, seed: 1)
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<200 { group.addTask { try await cache.contents(of: file) } }
            for try await read in group { #expect(read == bytes) }
        }
        #expect(store.reads.withLock { $0 } == 1 && cache.storeReads == 1)
    }

    @Test func theLeastRecentlyUsedFileLeavesWhenTheBoundIsReached() async throws {
        let directory = try TemporaryDirectory("cache")
        let store = CountingStore(try LocalFileStore(root: directory.path("blobs")))
        let cache = FileContentCache(store: store, capacityBytes: 250_000)
        let a = try await Self.stored(store, size: 100_000, seed: 1).0
        let b = try await Self.stored(store, size: 100_000, seed: 2).0
        let c = try await Self.stored(store, size: 100_000, seed: 3).0
        _ = try await cache.contents(of: a)
        _ = try await cache.contents(of: b)
        _ = try await cache.contents(of: a)  // a is now more recent than b
        _ = try await cache.contents(of: c)  // b leaves
        #expect(cache.storeReads == 3)
        _ = try await cache.contents(of: a)
        _ = try await cache.contents(of: c)
        #expect(cache.storeReads == 3)
        _ = try await cache.contents(of: b)
        #expect(cache.storeReads == 4)
        // Larger than the whole bound: served, never kept.
        let big = try await Self.stored(store, size: 300_000, seed: 4)
        #expect(try await cache.contents(of: big.0) == big.1)
        #expect(try await cache.contents(of: big.0) == big.1)
        #expect(cache.storeReads == 6)
    }

    @Test func aFailedReadIsRememberedForAWhileThenTriedAgain() async throws {
        let directory = try TemporaryDirectory("cache")
        let store = CountingStore(try LocalFileStore(root: directory.path("blobs")))
        let remembering = FileContentCache(store: store, failureMemory: .seconds(3600))
        let forgetting = FileContentCache(store: store, failureMemory: .zero)
        let (file, bytes) = try await Self.stored(store, size: 10_000, seed: 9)
        var damaged = bytes
        damaged[0] ^= 1
        let path = store.local.path(of: file.id)
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        for cache in [remembering, forgetting] {
            await #expect(throws: OTAServiceError.self) { _ = try await cache.contents(of: file) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // Within its memory the failure is answered without reading the store again; past it, the file is read.
        for _ in 0..<100 {
            await #expect(throws: OTAServiceError.self) { _ = try await remembering.contents(of: file) }
        }
        #expect(remembering.storeReads == 1)
        #expect(try await forgetting.contents(of: file) == bytes)
        #expect(forgetting.storeReads == 2)
    }
}
