import Hummingbird

// The service's own HTTPS data plane: GET /data/<file id>?thing=…&expires=…&signature=… serves an update's file
// to a device that was given that URL in its job document (`DataURLs`). No bearer token: the FreeRTOS agent
// sends none, the URL is the authorization. `Range` → 206 with exactly those bytes (what the agent demands,
// aws-ota-wire.md §8.1); no `Range` → 200 with the whole file; expired or altered URL → 403, which makes the agent
// ask for its job document again and resume with a fresh URL.

extension ManagementAPI {
    func addDataPlaneRoutes(to router: Router<APIRequestContext>) {
        let server = server
        let logger = logger
        router.get("data/:id") { request, context in
            let id = try context.name("id")
            // Parsed once: each `request.query(_:)` parses the whole query again.
            let query = request.uri.queryParameters
            let thing = query["thing"].map(String.init)
            try server.dataURLs.signer.verify(
                fileID: id, thing: thing, expires: query["expires"].map(String.init),
                signature: query["signature"].map(String.init), now: server.configuration.now())
            guard let file = try await server.fileRecords.file(id: id) else {
                throw OTAServiceError.notFound("file \(id)")
            }
            let bytes: [UInt8]
            do { bytes = try await server.files.contents(of: file) } catch {
                // The cause (a damaged blob, a changed object, the bucket's answer) is in the operator's log, once
                // per failed load (FileContentCache), not in the answer to an unauthenticated client.
                throw ProblemDetails(
                    status: .internalServerError, kind: "internal-error", detail: "the file cannot be read now")
            }
            var headers: HTTPFields = [
                .contentType: "application/octet-stream", .acceptRanges: "bytes", .cacheControl: "no-store",
            ]
            guard let rangeHeader = request.headers[.range] else {
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            let range = try Self.range(rangeHeader, size: bytes.count, headers: headers)
            headers[.contentRange] = "bytes \(range.first)-\(range.last)/\(bytes.count)"
            // --verbose: one line per range, following the device by its thing name like the MQTT lines.
            logger.debug(
                "data range served",
                metadata: [
                    "thing": "\(thing ?? "")", "file": "\(id.prefix(16))",
                    "range": "\(range.first)-\(range.last)",
                ])
            server.metrics.servedBlocks(1, bytes: range.last - range.first + 1, over: .http)
            return Response(
                status: .partialContent, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: bytes[range.first...range.last])))
        }
    }

    private static func range(_ header: String, size: Int, headers: HTTPFields) throws -> ByteRange {
        do throws(ByteRangeError) {
            return try ByteRange(header: header, size: size)
        } catch {
            var fields = headers
            fields[.contentRange] = "bytes */\(size)"
            let detail =
                switch error {
                case .unsupported(let why): "the Range header is not served: \(why)"
                case .unsatisfiable: "the range starts past the file's \(size) bytes"
                }
            throw ProblemDetails(
                status: .rangeNotSatisfiable, kind: "range-not-satisfiable", detail: detail, headers: fields)
        }
    }
}
