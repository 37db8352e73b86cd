// The bytes of a device's Streams request (aws-ota-wire.md §5), parsed under `DecodingLimits.deviceRequest`:
// malformed payloads are InvalidCbor / InvalidJson, payloads over the limits (size, depth, pairs per map, members
// per object) InvalidRequest. GetStream and DescribeStream both read their payloads here.

enum StreamRequestPayload {
    static func cbor(_ payload: [UInt8]) throws(StreamRequestError) -> CBORValue {
        do { return try CBORDecoder.decode(payload, limits: .deviceRequest) } catch {
            throw StreamRequestError(
                error.failure == .limitExceeded ? .invalidRequest : .invalidCBOR, error.description)
        }
    }

    static func json(_ payload: [UInt8]) throws(StreamRequestError) -> JSONValue {
        do { return try JSONParser.parse(payload, limits: .deviceRequest) } catch {
            throw StreamRequestError(
                error.failure == .limitExceeded ? .invalidRequest : .invalidJSON, error.description)
        }
    }
}

/// A DescribeStream request, from `describe/cbor` or `describe/json`: empty, or any item whose text `c` is the
/// client token to echo.
public struct DescribeStreamRequest: Equatable, Sendable {
    public var clientToken: String?

    public init(clientToken: String? = nil) {
        self.clientToken = clientToken
    }

    public static func decodeCBOR(_ payload: [UInt8]) throws(StreamRequestError) -> DescribeStreamRequest {
        guard !payload.isEmpty else { return DescribeStreamRequest() }
        return DescribeStreamRequest(clientToken: try StreamRequestPayload.cbor(payload)["c"]?.textValue)
    }

    public static func decodeJSON(_ payload: [UInt8]) throws(StreamRequestError) -> DescribeStreamRequest {
        guard !payload.isEmpty else { return DescribeStreamRequest() }
        return DescribeStreamRequest(clientToken: try StreamRequestPayload.json(payload)["c"]?.stringValue)
    }
}
