import Logging
import Synchronization

// The contents of the files being delivered, shared by every device: 10,000 devices on one image cost one read of
// the store, not one per device or per block. Bounded by bytes (least recently used files leave first); a file is
// loaded once even when many devices ask for it at the same moment; what it holds was checked against the file's
// SHA-256 by the store. A failed load (a damaged blob, an object changed behind the service's back, the bucket
// unreachable) is remembered for `failureMemory` and logged once: a fleet retrying every 10 s must not turn into
// a full store read, and a log line, per request.

public final class FileContentCache: Sendable {
    public let store: any FileStore
    public let capacityBytes: Int
    public let failureMemory: Duration
    private let logger: Logger
    private let state = Mutex(State())

    struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var loading: [String: Loading] = [:]
        var failures: [String: Failure] = [:]
        var storeReads = 0

        /// The bytes of file `id` when held, marked as just used.
        mutating func use(_ id: String) -> [UInt8]? {
            guard var entry = entries[id] else { return nil }
            clock += 1
            entry.lastUse = clock
            entries[id] = entry
            return entry.bytes
        }
    }

    struct Entry {
        var bytes: [UInt8]
        var lastUse: UInt64
    }

    struct Loading {
        let number: UInt64
        let task: Task<[UInt8], any Error>
    }

    struct Failure {
        let error: OTAServiceError
        let until: ContinuousClock.Instant
    }

    /// 64 MiB holds sixteen of the largest images a FreeRTOS agent accepts (4 MiB).
    public static let defaultCapacityBytes = 64 << 20

    public init(
        store: any FileStore, capacityBytes: Int = FileContentCache.defaultCapacityBytes,
        failureMemory: Duration = .seconds(10), logger: Logger = Logger(label: "swiftota.files")
    ) {
        self.store = store
        self.capacityBytes = capacityBytes
        self.failureMemory = failureMemory
        self.logger = logger
    }

    /// How many times the store was read (the benchmark's "store reads per image").
    public var storeReads: Int { state.withLock { $0.storeReads } }

    /// The file's bytes when they are held already (no store read, no suspension), else nil.
    public func cachedContents(of fileID: String) -> [UInt8]? {
        state.withLock { $0.use(fileID) }
    }

    public func contents(of file: StoredFile) async throws -> [UInt8] {
        let store = store
        let now = ContinuousClock.now
        let lookup = state.withLock { state -> Lookup in
            if let bytes = state.use(file.id) { return .cached(bytes) }
            if let failure = state.failures[file.id], now < failure.until { return .failed(failure.error) }
            if let loading = state.loading[file.id] { return .loading(loading) }
            state.storeReads += 1
            state.clock += 1
            let loading = Loading(number: state.clock, task: Task { try await store.contents(of: file) })
            state.loading[file.id] = loading
            return .loading(loading)
        }
        switch lookup {
        case .cached(let bytes):
            return bytes
        case .failed(let error):
            throw error
        case .loading(let loading):
            do {
                let bytes = try await loading.task.value
                keep(bytes, for: file.id, loadedBy: loading.number)
                return bytes
            } catch {
                remember(error, for: file.id, loadedBy: loading.number)
                throw error
            }
        }
    }

    private enum Lookup {
        case cached([UInt8])
        case loading(Loading)
        case failed(OTAServiceError)
    }

    /// Only the load that is still current leaves the loading table (a later one may have started meanwhile).
    private func keep(_ bytes: [UInt8], for id: String, loadedBy number: UInt64) {
        state.withLock { state in
            if state.loading[id]?.number == number { state.loading.removeValue(forKey: id) }
            state.failures.removeValue(forKey: id)
            guard state.entries[id] == nil, bytes.count <= capacityBytes else { return }
            while state.bytes + bytes.count > capacityBytes,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.bytes -= oldest.value.bytes.count
                state.entries.removeValue(forKey: oldest.key)
            }
            state.clock += 1
            state.entries[id] = Entry(bytes: bytes, lastUse: state.clock)
            state.bytes += bytes.count
        }
    }

    private func remember(_ error: any Error, for id: String, loadedBy number: UInt64) {
        let logged = state.withLock { state -> Bool in
            guard state.loading[id]?.number == number else { return false }
            state.loading.removeValue(forKey: id)
            let serviceError = error as? OTAServiceError ?? .internalError("\(error)")
            state.failures[id] = Failure(error: serviceError, until: .now + failureMemory)
            return true
        }
        if logged {
            logger.error(
                "a file cannot be read from the store; it is not delivered",
                metadata: ["file": "\(id)", "store": "\(store.summary)", "error": "\(error)"])
        }
    }
}
