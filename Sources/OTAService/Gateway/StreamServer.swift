import Foundation
import OTAWire
import Synchronization

// Serves GetStream and DescribeStream: checks that the requesting thing has an open execution of a job using
// the stream (a device cannot read another thing's stream), then publishes one message per selected block.
// File bytes come from the shared content cache (one store read per image, not per device).
//
// A thing's right to a stream is read from the store once and then trusted: a download of 256 blocks must not
// cost 256 database transactions (with PostgreSQL, a round trip each). The grant ends as soon as the thing's next
// execution changes (its job finished or was cancelled, here or, told over the cluster bus, on another instance),
// and after `grantDuration` in any case, which bounds what a lost cluster event can leave: blocks of a file the
// device was entitled to a moment before.

public final class StreamServer: Sendable {
    private let store: any OTAStore
    private let files: FileContentCache
    private let fileRecords: FileRecordCache
    private let streamsOfJobs = Mutex<[String: String]>([:])
    /// Stream records are written once, when their update is created: kept after the first read.
    private let streamRecords = Mutex<[String: StreamRecord]>([:])
    /// Until when each thing may read each stream without asking the store again: thing → stream → instant.
    private let grants = Mutex<[String: [String: ContinuousClock.Instant]]>([:])
    private let grantDuration: Duration

    public init(
        store: any OTAStore, files: FileContentCache, records: FileRecordCache, grantDuration: Duration = .seconds(60)
    ) {
        self.store = store
        self.files = files
        self.fileRecords = records
        self.grantDuration = grantDuration
    }

    /// The thing's next execution changed (finished, cancelled, a new one): its streams are checked again.
    public func endGrants(of thing: String) {
        _ = grants.withLock { $0.removeValue(forKey: thing) }
    }

    /// A decoded request's answer: the messages to publish on the data topic, in order.
    public func blocks(thing: String, streamID: String, request: StreamRequest) async throws(StreamRequestError)
        -> [StreamBlock]
    {
        let stream = try await authorizedStream(thing: thing, streamID: streamID, clientToken: request.clientToken)
        if let version = request.streamVersion, version != UInt64(stream.version) {
            throw StreamRequestError(
                .versionMismatch, "stream version is \(stream.version), not \(version)",
                clientToken: request.clientToken)
        }
        guard let file = stream.files.first(where: { UInt64($0.fileID) == request.fileID }) else {
            throw StreamRequestError(
                .resourceNotFound, "stream \(streamID) has no file \(request.fileID)", clientToken: request.clientToken)
        }
        let indices = try BlockSelection.blocks(for: request, fileSize: UInt64(file.size))
        let bytes: [UInt8]
        do { bytes = try await content(of: file.storedFileID) } catch {
            throw StreamRequestError(.internalError, "the file cannot be read", clientToken: request.clientToken)
        }
        return indices.map { index in
            let start = Int(index * request.blockSize)
            let end = min(start + Int(request.blockSize), bytes.count)
            return StreamBlock(index: index, bytes: bytes[start..<end])
        }
    }

    /// DescribeStream: `{"c":…,"s":version,"d":description,"r":[{"f":id,"z":size}]}`.
    public func describe(thing: String, streamID: String, clientToken: String?) async throws(StreamRequestError)
        -> StreamRecord
    {
        try await authorizedStream(thing: thing, streamID: streamID, clientToken: clientToken)
    }

    private func authorizedStream(thing: String, streamID: String, clientToken: String?)
        async
        throws(StreamRequestError) -> StreamRecord
    {
        let now = ContinuousClock.now
        if let record = streamRecords.withLock({ $0[streamID] }),
            let until = grants.withLock({ $0[thing]?[streamID] }), now < until
        {
            return record
        }
        do {
            let known = streamsOfJobs.withLock { $0 }
            let knownRecord = streamRecords.withLock { $0[streamID] }
            let result = try await store.read { reader -> (StreamRecord?, Bool, [String: String]) in
                var learned: [String: String] = [:]
                var allowed = false
                for execution in try reader.executions(thing: thing) where !execution.status.isTerminal {
                    var stream = known[execution.jobID]
                    if stream == nil, let job = try reader.job(id: execution.jobID) {
                        stream = job.streamID
                        learned[job.id] = job.streamID
                    }
                    if stream == streamID { allowed = true }
                }
                return (allowed ? try knownRecord ?? reader.stream(id: streamID) : nil, allowed, learned)
            }
            if !result.2.isEmpty { streamsOfJobs.withLock { $0.merge(result.2) { $1 } } }
            if knownRecord == nil, let record = result.0 { streamRecords.withLock { $0[streamID] = record } }
            guard result.1, let stream = result.0 else {
                throw StreamRequestError(
                    .unauthorized, "thing \(thing) has no open job that uses stream \(streamID)",
                    clientToken: clientToken)
            }
            let duration = grantDuration
            grants.withLock { grants in
                // Expired grants go when the table grows: one entry per downloading device stays.
                if grants.count > 20_000 { grants = grants.filter { $0.value.values.contains { $0 > now } } }
                grants[thing, default: [:]][streamID] = now + duration
            }
            return stream
        } catch let error as StreamRequestError {
            throw error
        } catch {
            throw StreamRequestError(.internalError, "storage failed", clientToken: clientToken)
        }
    }

    private func content(of fileID: String) async throws -> [UInt8] {
        guard let record = try await fileRecords.file(id: fileID) else {
            throw OTAServiceError.notFound("file \(fileID)")
        }
        return try await files.contents(of: record)
    }
}

/// One block of a stream response: its index and its bytes, a slice of the cached file (no copy).
public struct StreamBlock: Sendable {
    public let index: UInt64
    public let bytes: ArraySlice<UInt8>
}
