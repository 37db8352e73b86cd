import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension S3Client {
    /// The part size for an object of `count` bytes: `partSize`, or more when that would need over 10,000 parts.
    func effectivePartSize(for count: Int) -> Int {
        let smallestFitting = (count + Self.maximumPartCount - 1) / Self.maximumPartCount
        return max(partSize, smallestFitting)
    }

    /// CreateMultipartUpload, UploadPart for each part in order, CompleteMultipartUpload. Any failure after the
    /// upload exists aborts it, so no invisible parts are left to be billed; the original error is what is thrown.
    func putMultipart(bucket: String, key: String, bytes: [UInt8]) async throws(S3Error) -> S3ObjectInfo {
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key)
        do throws(S3Error) {
            let size = effectivePartSize(for: bytes.count)
            var etags: [String] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + size, bytes.count)
                etags.append(
                    try await uploadPart(
                        bucket: bucket, key: key, uploadID: uploadID, number: etags.count + 1,
                        bytes: Array(bytes[offset..<end])))
                offset = end
            }
            let etag = try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, etags: etags)
            return S3ObjectInfo(size: Int64(bytes.count), etag: etag)
        } catch {
            // Not cancelled with the caller's task: the abort must still go out when the upload was cancelled.
            await Task { await self.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID) }.value
            throw error
        }
    }

    func createMultipartUpload(bucket: String, key: String) async throws(S3Error) -> String {
        let response = try await send(S3Request(method: .POST, bucket: bucket, key: key, query: [("uploads", "")]))
        let body = try await collect(response, limit: Self.maximumXMLBody)
        guard response.status == .ok else { throw failure(response, body: body, bucket: bucket, key: key) }
        guard let uploadID = S3XML.firstElement("UploadId", in: body), !uploadID.isEmpty else {
            throw .badResponse(
                status: 200, code: "MissingUploadId", message: "CreateMultipartUpload answered without an UploadId")
        }
        return uploadID
    }

    func uploadPart(
        bucket: String, key: String, uploadID: String, number: Int, bytes: [UInt8]
    ) async throws(S3Error) -> String {
        let response = try await send(
            S3Request(
                method: .PUT, bucket: bucket, key: key,
                query: [("partNumber", String(number)), ("uploadId", uploadID)], body: bytes))
        let body = try await collect(response, limit: Self.maximumXMLBody)
        guard response.status == .ok else { throw failure(response, body: body, bucket: bucket, key: key) }
        return try etag(of: response)
    }

    func completeMultipartUpload(
        bucket: String, key: String, uploadID: String, etags: [String]
    ) async throws(S3Error) -> String {
        var document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            document += "<Part><PartNumber>\(index + 1)</PartNumber>"
            document += "<ETag>\(S3XML.escape(Self.quotedETag(etag)))</ETag></Part>"
        }
        document += "</CompleteMultipartUpload>"
        let response = try await send(
            S3Request(
                method: .POST, bucket: bucket, key: key, query: [("uploadId", uploadID)],
                headers: [("Content-Type", "application/xml")], body: Array(document.utf8)))
        let body = try await collect(response, limit: Self.maximumXMLBody)
        // S3 may answer 200 and put an error in the body, when it fails after it started answering.
        guard response.status == .ok, !S3XML.isError(body) else {
            throw failure(response, body: body, bucket: bucket, key: key)
        }
        guard let etag = S3XML.firstElement("ETag", in: body), !etag.isEmpty else {
            throw .badResponse(
                status: 200, code: "MissingETag", message: "CompleteMultipartUpload answered without an ETag")
        }
        return Self.unquotedETag(etag)
    }

    /// Best effort: when the abort fails too, the bucket's lifecycle rule for incomplete uploads is the backstop.
    func abortMultipartUpload(bucket: String, key: String, uploadID: String) async {
        guard
            let response = try? await send(
                S3Request(method: .DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)]))
        else { return }
        _ = try? await collect(response, limit: Self.maximumXMLBody)
    }
}
