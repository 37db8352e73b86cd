import Foundation
import OTAWire
import Synchronization

// Serves GetStream and DescribeStream: checks that the stream is the one of the requesting thing's next execution
// (the job it works on: a device cannot read another thing's stream, nor a job it is not on), then publishes one
// message per selected block.
// File bytes come from the shared content cache (one store read per image, not per device).
//
// A thing's right to a stream is read from the store once and then trusted (StreamGrants.swift): a download of
// 256 blocks must not cost 256 database transactions (with PostgreSQL, a round trip each). The grant ends as soon
// as the thing's next execution changes (its job finished or was cancelled, here or, told over the cluster bus, on
// another instance), and after `grantDuration` in any case.

public final class StreamServer: Sendable {
    private let store: any OTAStore
    private let files: FileContentCache
    private let fileRecords: FileRecordCache
    /// A job's stream and a stream's record are written once, when their update is created: kept after the first
    /// read.
    private let streamsOfJobs = ReadOnceCache<String>()
    private let streamRecords = ReadOnceCache<StreamRecord>()
    private let grants: StreamGrants
    private let metrics: ServiceMetrics
    /// Blocks served per downloading thing (the console's progress bars).
    let progress = DeliveryProgress()

    public init(
        store: any OTAStore, files: FileContentCache, records: FileRecordCache, grantDuration: Duration = .seconds(60),
        metrics: ServiceMetrics = .none
    ) {
        self.metrics = metrics
        self.store = store
        self.files = files
        self.fileRecords = records
        grants = StreamGrants(duration: grantDuration)
    }

    /// The thing's next execution changed (finished, cancelled, a new one): its streams are checked again.
    public func endGrants(of thing: String) {
        grants.end(thing: thing)
        progress.forget(thing: thing)
    }

    /// Cluster events may have been lost: every stream is checked again.
    public func endAllGrants() {
        grants.endAll()
    }

    /// A decoded request's answer: the messages to publish on the data topic, in order.
    public func blocks(thing: String, streamID: String, request: StreamRequest) async throws(StreamRequestError)
        -> [StreamBlock]
    {
        let stream = try await authorizedStream(thing: thing, streamID: streamID, clientToken: request.clientToken)
        let file = try self.file(of: stream, for: request)
        let bytes: [UInt8]
        do { bytes = try await content(of: file.storedFileID) } catch {
            throw StreamRequestError(.internalError, "the file cannot be read", clientToken: request.clientToken)
        }
        return try select(request, from: file, bytes, thing: thing, streamID: streamID)
    }

    /// The answer without suspending, when everything it needs is held already (the thing's grant, the stream's
    /// record, the file's bytes): most requests of a download. Nil when the store must be asked (`blocks` then).
    /// The device gateway answers these on the connection's event loop, without a hop to another thread and back.
    public func blocksAtOnce(thing: String, streamID: String, request: StreamRequest) throws(StreamRequestError)
        -> [StreamBlock]?
    {
        guard let stream = grantedStream(thing: thing, streamID: streamID) else { return nil }
        let file = try self.file(of: stream, for: request)
        guard let bytes = files.cachedContents(of: file.storedFileID) else { return nil }
        return try select(request, from: file, bytes, thing: thing, streamID: streamID)
    }

    private func file(of stream: StreamRecord, for request: StreamRequest) throws(StreamRequestError) -> StreamFile {
        if let version = request.streamVersion, version != UInt64(stream.version) {
            throw StreamRequestError(
                .versionMismatch, "stream version is \(stream.version), not \(version)",
                clientToken: request.clientToken)
        }
        guard let file = stream.files.first(where: { UInt64($0.fileID) == request.fileID }) else {
            throw StreamRequestError(
                .resourceNotFound, "stream \(stream.id) has no file \(request.fileID)",
                clientToken: request.clientToken)
        }
        return file
    }

    /// The requested blocks as slices of the file's bytes, counted.
    private func select(
        _ request: StreamRequest, from file: StreamFile, _ bytes: [UInt8], thing: String, streamID: String
    ) throws(StreamRequestError) -> [StreamBlock] {
        let indices = try BlockSelection.blocks(for: request, fileSize: UInt64(file.size))
        var served = 0
        let blocks = indices.map { index in
            let start = Int(index * request.blockSize)
            let end = min(start + Int(request.blockSize), bytes.count)
            served += end - start
            return StreamBlock(index: index, bytes: bytes[start..<end])
        }
        metrics.servedBlocks(blocks.count, bytes: served, over: .mqtt)
        let total = (Int(file.size) + Int(request.blockSize) - 1) / max(Int(request.blockSize), 1)
        progress.served(thing: thing, stream: streamID, blocks: indices, of: total)
        return blocks
    }

    /// DescribeStream: `{"c":…,"s":version,"d":description,"r":[{"f":id,"z":size}]}`.
    public func describe(thing: String, streamID: String, clientToken: String?) async throws(StreamRequestError)
        -> StreamRecord
    {
        try await authorizedStream(thing: thing, streamID: streamID, clientToken: clientToken)
    }

    /// The stream's record when the thing holds a grant to it and the record was read already (no store read).
    private func grantedStream(thing: String, streamID: String) -> StreamRecord? {
        guard let record = streamRecords.cached(streamID),
            grants.isGranted(thing: thing, stream: streamID, at: .now)
        else { return nil }
        return record
    }

    private func authorizedStream(thing: String, streamID: String, clientToken: String?)
        async
        throws(StreamRequestError) -> StreamRecord
    {
        if let record = grantedStream(thing: thing, streamID: streamID) { return record }
        do {
            let ticket = grants.ticket(for: thing)
            // The thing's next execution alone is read each time (one statement); its job's stream and the stream's
            // record never change and are read once for all devices.
            let next = try await store.read { reader in try JobEngine.next(for: thing, in: reader) }
            var allowed: StreamRecord?
            if let next, try await stream(ofJob: next.jobID) == streamID { allowed = try await record(of: streamID) }
            guard let stream = allowed else {
                throw StreamRequestError(
                    .unauthorized, "stream \(streamID) is not the one of the job thing \(thing) works on",
                    clientToken: clientToken)
            }
            grants.grant(thing: thing, stream: streamID, at: .now, ticket: ticket)
            return stream
        } catch let error as StreamRequestError {
            throw error
        } catch {
            throw StreamRequestError(.internalError, "storage failed", clientToken: clientToken)
        }
    }

    private func stream(ofJob jobID: String) async throws -> String? {
        try await streamsOfJobs.value(of: jobID) { [store] in try await store.read { try $0.job(id: jobID)?.streamID } }
    }

    private func record(of streamID: String) async throws -> StreamRecord? {
        try await streamRecords.value(of: streamID) { [store] in try await store.read { try $0.stream(id: streamID) } }
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
