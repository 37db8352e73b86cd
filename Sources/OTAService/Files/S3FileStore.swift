import Crypto
import Foundation
import S3

// Files in an S3-compatible bucket (AWS, MinIO, Ceph, R2, …): `s3://BUCKET[/PREFIX]`. Every file is an object at
// `PREFIX/<sha256 hex>` that only the service writes (content-addressed: the same image stored twice is one
// object). `ota files import` reads an object someone else put in the bucket (a CI pipeline's artifact) and stores
// its bytes there too: a CI path like `ci/latest.bin` is overwritten by the next build, and devices given a presigned
// URL must get the bytes whose signature their job document carries. Each file records the object's ETag from when
// its SHA-256 was checked: every later read asks for exactly that object (If-Match), and the assembled bytes are
// checked against the SHA-256 again, so an object changed behind the service's back is refused, never served.
// Reads are ranged GETs of `readChunkBytes`; the service's content cache makes that one read per image, not per
// device. HTTP delivery hands devices presigned GET URLs: the bytes then go from the bucket to the device directly.

public struct S3FileStore: ObjectImporting {
    public let client: S3Client
    public let location: S3Location
    /// Bytes per ranged GET when the service reads a file.
    public let readChunkBytes: Int

    public init(client: S3Client, location: S3Location, readChunkBytes: Int = 1 << 20) {
        self.client = client
        self.location = location
        self.readChunkBytes = max(1, readChunkBytes)
    }

    public var summary: String { location.description }

    public func check() async throws {
        do { try await client.headBucket(location.bucket) } catch {
            throw Self.serviceError(error, doing: "open the file store \(summary)")
        }
    }

    public func put(_ bytes: [UInt8], id: String) async throws -> FileLocation {
        let key = location.key(id)
        let place = "s3://\(location.bucket)/\(key)"
        do {
            // Always written, even when an object of that name exists: a damaged or replaced one is repaired by
            // storing the right bytes again (same content, same ETag for a single PUT).
            let stored = try await client.putObject(bucket: location.bucket, key: key, bytes: bytes)
            return FileLocation(location: place, etag: stored.etag)
        } catch {
            throw Self.serviceError(error, doing: "store \(place)")
        }
    }

    public func contents(of file: StoredFile) async throws -> [UInt8] {
        let (bucket, key) = try Self.object(of: file)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(file.size))
        do {
            var offset: Int64 = 0
            while offset < file.size {
                let last = min(offset + Int64(readChunkBytes), file.size) - 1
                let chunk = try await client.getObject(
                    bucket: bucket, key: key, range: offset...last, ifMatch: file.etag)
                guard chunk.count == Int(last - offset + 1) else {
                    throw OTAServiceError.internalError(
                        "s3://\(bucket)/\(key) is shorter than the \(file.size) bytes recorded for file \(file.id)")
                }
                bytes += chunk
                offset = last + 1
            }
        } catch let error as S3Error {
            if case .preconditionFailed = error {
                throw OTAServiceError.internalError(
                    "s3://\(bucket)/\(key) changed since file \(file.id) was registered (its ETag differs): refused")
            }
            throw Self.serviceError(error, doing: "read s3://\(bucket)/\(key)")
        }
        guard sha256Hex(bytes) == file.id else {
            throw OTAServiceError.internalError(
                "s3://\(bucket)/\(key) no longer has the SHA-256 of file \(file.id): refused")
        }
        return bytes
    }

    public func presignedURL(for file: StoredFile, expiresIn seconds: Int, now: Date) throws -> String? {
        let (bucket, key) = try Self.object(of: file)
        do { return try client.presignedGetURL(bucket: bucket, key: key, expiresIn: seconds, now: now) } catch {
            throw Self.serviceError(error, doing: "presign s3://\(bucket)/\(key)")
        }
    }

    public func importObject(at url: String, maximumBytes: Int) async throws -> [UInt8] {
        let object: S3Location
        do { object = try S3Location(parsing: url) } catch { throw OTAServiceError.invalidRequest("\(error)") }
        guard !object.prefix.isEmpty, !object.prefix.hasSuffix("/") else {
            throw OTAServiceError.invalidRequest("\(url) names no object: import s3://BUCKET/KEY")
        }
        // Only the service's own bucket: the service's credentials must not become a way to read any bucket they
        // happen to reach.
        guard object.bucket == location.bucket else {
            throw OTAServiceError.invalidRequest(
                "\(url) is not in the file store's bucket \(location.bucket): put it there first")
        }
        var bytes: [UInt8] = []
        do {
            let head = try await client.headObject(bucket: object.bucket, key: object.prefix)
            guard head.size <= Int64(maximumBytes) else {
                throw OTAServiceError.invalidRequest(
                    "\(url) is \(head.size) bytes; files may be at most \(maximumBytes)")
            }
            try await client.getObjectChunks(bucket: object.bucket, key: object.prefix, ifMatch: head.etag) { chunk in
                guard bytes.count + chunk.count <= maximumBytes else {
                    throw OTAServiceError.invalidRequest("\(url) grew past \(maximumBytes) bytes while read")
                }
                bytes += chunk
            }
            return bytes
        } catch let error as OTAServiceError {
            throw error
        } catch {
            throw Self.serviceError(error, doing: "import \(url)")
        }
    }

    /// The bucket and key a file record names.
    static func object(of file: StoredFile) throws -> (bucket: String, key: String) {
        guard let place = file.location, let parsed = try? S3Location(parsing: place), !parsed.prefix.isEmpty else {
            throw OTAServiceError.unavailable(
                "file \(file.id) is in the local store, but the service runs with an S3 file store")
        }
        return (parsed.bucket, parsed.prefix)
    }

    /// S3's answer as the service's error: what does not exist is not found; refusals and outages are unavailable.
    static func serviceError(_ error: any Error, doing what: String) -> OTAServiceError {
        guard let error = error as? S3Error else { return .unavailable("cannot \(what): \(error)") }
        switch error {
        case .noSuchBucket, .noSuchKey: return .notFound("cannot \(what): \(error)")
        case .badLocation, .invalidArgument: return .invalidRequest("cannot \(what): \(error)")
        default: return .unavailable("cannot \(what): \(error)")
        }
    }
}
