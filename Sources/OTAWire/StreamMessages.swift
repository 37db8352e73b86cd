// GetStream requests, data blocks and rejections of the Streams MQTT API (aws-ota-wire.md §5).

/// Error codes of `…/streams/<S>/rejected/<fmt>` (§5.3).
public enum StreamErrorCode: String, Sendable, Equatable {
    case invalidTopic = "InvalidTopic"
    case invalidJSON = "InvalidJson"
    case invalidCBOR = "InvalidCbor"
    case invalidRequest = "InvalidRequest"
    case unauthorized = "Unauthorized"
    case blockSizeOutOfBounds = "BlockSizeOutOfBounds"
    case offsetOutOfBounds = "OffsetOutOfBounds"
    case blockCountLimitExceeded = "BlockCountLimitExceeded"
    case blockBitmapLimitExceeded = "BlockBitmapLimitExceeded"
    case resourceNotFound = "ResourceNotFound"
    case versionMismatch = "VersionMismatch"
    case internalError = "InternalError"
}

public struct StreamRequestError: Error, Equatable, CustomStringConvertible {
    public let code: StreamErrorCode
    public let message: String
    /// The request's client token when it could be read, echoed in the rejection.
    public let clientToken: String?

    public init(_ code: StreamErrorCode, _ message: String, clientToken: String? = nil) {
        self.code = code
        self.message = message
        self.clientToken = clientToken
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// `{"o":"<code>","m":"<message>","c":"<token>"}`.
    public var rejectionPayload: [UInt8] {
        var object = JSONObject([JSONMember("o", .string(code.rawValue)), JSONMember("m", .string(message))])
        if let clientToken { object.set("c", .string(clientToken)) }
        return JSONValue.object(object).serialized
    }
}

/// A GetStream request, from `get/cbor` or `get/json`.
public struct StreamRequest: Equatable, Sendable {
    public static let maximumClientTokenBytes = 64

    public var clientToken: String?
    public var streamVersion: UInt64?
    public var fileID: UInt64
    public var blockSize: UInt64
    public var blockOffset: UInt64
    /// Bits relative to `blockOffset`, LSB first; nil asks for the range `blockOffset ..< blockOffset + numberOfBlocks`.
    public var bitmap: [UInt8]?
    public var numberOfBlocks: UInt64?

    public init(
        clientToken: String? = nil, streamVersion: UInt64? = nil, fileID: UInt64, blockSize: UInt64,
        blockOffset: UInt64 = 0, bitmap: [UInt8]? = nil, numberOfBlocks: UInt64? = nil
    ) {
        self.clientToken = clientToken
        self.streamVersion = streamVersion
        self.fileID = fileID
        self.blockSize = blockSize
        self.blockOffset = blockOffset
        self.bitmap = bitmap
        self.numberOfBlocks = numberOfBlocks
    }

    /// Exactly what generation A sends: a definite map of six pairs in the order c, f, l, o, b, n (§5.1).
    public var cborEncoded: [UInt8] {
        var pairs: [CBORPair] = []
        if let clientToken { pairs.append(CBORPair(.text("c"), .text(clientToken))) }
        if let streamVersion { pairs.append(CBORPair(.text("s"), .unsigned(streamVersion))) }
        pairs.append(CBORPair(.text("f"), .unsigned(fileID)))
        pairs.append(CBORPair(.text("l"), .unsigned(blockSize)))
        pairs.append(CBORPair(.text("o"), .unsigned(blockOffset)))
        if let bitmap { pairs.append(CBORPair(.text("b"), .bytes(bitmap))) }
        if let numberOfBlocks { pairs.append(CBORPair(.text("n"), .unsigned(numberOfBlocks))) }
        return CBORValue.map(pairs).encoded
    }

    public static func decodeCBOR(_ payload: [UInt8]) throws(StreamRequestError) -> StreamRequest {
        if let common = decodeCommonShape(payload) { return try common.get() }
        return try decodeAnyShape(payload)
    }

    /// The general decoder: the whole item as a CBOR tree, then its pairs (StreamRequestCommonShape.swift reads the
    /// usual requests without the tree, and gives the same answers).
    static func decodeAnyShape(_ payload: [UInt8]) throws(StreamRequestError) -> StreamRequest {
        guard case .map(let pairs) = try StreamRequestPayload.cbor(payload) else {
            throw StreamRequestError(.invalidCBOR, "the request is not a map")
        }
        var fields = StreamRequestFields()
        for pair in pairs {
            guard case .text(let key) = pair.key else {
                throw StreamRequestError(.invalidRequest, "map keys must be text strings")
            }
            try fields.set(key, pair.value)
        }
        return try fields.request()
    }

    /// `{"c":…,"s":1,"f":0,"l":4096,"o":0,"n":1,"b":"0x130080"}`; `b` is a hex string (§5.3).
    public static func decodeJSON(_ payload: [UInt8]) throws(StreamRequestError) -> StreamRequest {
        guard let object = try StreamRequestPayload.json(payload).objectValue else {
            throw StreamRequestError(.invalidJSON, "the request is not an object")
        }
        var fields = StreamRequestFields()
        for member in object.members {
            switch member.value {
            case .number(let literal):
                // JSON number syntax already excludes leading zeros, so this is plain decimal.
                guard let number = JSONValue.parseUnsigned(literal) else {
                    throw StreamRequestError(.invalidRequest, "'\(member.key)' must be a non-negative integer")
                }
                try fields.set(member.key, .unsigned(number))
            case .string(let text) where sameBytes(member.key, "b"):
                guard let bitmap = Self.hexBitmap(text) else {
                    throw StreamRequestError(.invalidRequest, "'b' must be a hex string such as \"0x130080\"")
                }
                try fields.set("b", .bytes(bitmap))
            case .string(let text): try fields.set(member.key, .text(text))
            default: throw StreamRequestError(.invalidRequest, "'\(member.key)' has the wrong type")
            }
        }
        return try fields.request()
    }

    private static func hexBitmap(_ text: String) -> [UInt8]? {
        var digits = Array(text.utf8)
        if digits.count >= 2 && digits[0] == 0x30 && (digits[1] == 0x78 || digits[1] == 0x58) {
            digits.removeFirst(2)
        }
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = hexDigitValue(digits[index]), let low = hexDigitValue(digits[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

/// Collects request fields with their type checks; shared by the CBOR and JSON decoders.
struct StreamRequestFields {
    var clientToken: String?
    var version: UInt64?
    var fileID: UInt64?
    var blockSize: UInt64?
    var offset: UInt64?
    var bitmap: [UInt8]?
    var count: UInt64?

    mutating func set(_ key: String, _ value: CBORValue) throws(StreamRequestError) {
        switch key {
        case "c":
            guard let text = value.textValue else { throw wrongType("c", "a text string") }
            guard text.utf8.count <= StreamRequest.maximumClientTokenBytes else {
                throw StreamRequestError(.invalidRequest, "client token longer than 64 bytes")
            }
            clientToken = text
        case "s": version = try unsigned(key, value)
        case "f": fileID = try unsigned(key, value)
        case "l": blockSize = try unsigned(key, value)
        case "o": offset = try unsigned(key, value)
        case "n": count = try unsigned(key, value)
        case "b":
            guard let bytes = value.bytesValue else { throw wrongType("b", "a byte string") }
            bitmap = bytes
        default:
            // Unknown keys are ignored, as a forward-compatible server should.
            break
        }
    }

    private func unsigned(_ key: String, _ value: CBORValue) throws(StreamRequestError) -> UInt64 {
        guard let number = value.unsignedValue else { throw wrongType(key, "an unsigned integer") }
        return number
    }

    private func wrongType(_ key: String, _ expected: String) -> StreamRequestError {
        StreamRequestError(.invalidRequest, "'\(key)' must be \(expected)", clientToken: clientToken)
    }

    func request() throws(StreamRequestError) -> StreamRequest {
        guard let fileID else {
            throw StreamRequestError(.invalidRequest, "'f' (file id) is missing", clientToken: clientToken)
        }
        guard let blockSize else {
            throw StreamRequestError(.invalidRequest, "'l' (block size) is missing", clientToken: clientToken)
        }
        return StreamRequest(
            clientToken: clientToken, streamVersion: version, fileID: fileID, blockSize: blockSize,
            blockOffset: offset ?? 0, bitmap: bitmap, numberOfBlocks: count)
    }
}

/// One block on `…/data/cbor` or `…/data/json` (§5.2).
public struct StreamDataBlock: Equatable, Sendable {
    public var fileID: UInt64
    public var blockIndex: UInt64
    public var payload: [UInt8]

    public init(fileID: UInt64, blockIndex: UInt64, payload: [UInt8]) {
        self.fileID = fileID
        self.blockIndex = blockIndex
        self.payload = payload
    }

    /// Minimal definite map `{f, l, i, p}`. No client token: the device does not read it, and every byte of
    /// overhead lowers the longest thing name whose data topic still fits the agent's 4224-byte buffer (§5.7).
    public var cborEncoded: [UInt8] {
        var message = Self.cborHead(
            fileID: fileID, blockIndex: blockIndex, payloadSize: payload.count, reserving: payload.count)
        message.append(contentsOf: payload)
        return message
    }

    /// The CBOR data message up to its payload's bytes, `{"f":…,"l":…,"i":…,"p":` and the byte string's head: the
    /// payload follows it as it is (the service writes the two straight into the outgoing packet).
    public static func cborHead(fileID: UInt64, blockIndex: UInt64, payloadSize: Int, reserving extra: Int = 0)
        -> [UInt8]
    {
        var output: [UInt8] = []
        output.reserveCapacity(extra + 26)
        CBORHead.write(major: 5, argument: 4, into: &output)
        output.append(0x61)
        output.append(0x66)
        CBORHead.write(major: 0, argument: fileID, into: &output)
        output.append(0x61)
        output.append(0x6C)
        CBORHead.write(major: 0, argument: UInt64(payloadSize), into: &output)
        output.append(0x61)
        output.append(0x69)
        CBORHead.write(major: 0, argument: blockIndex, into: &output)
        output.append(0x61)
        output.append(0x70)
        CBORHead.write(major: 2, argument: UInt64(payloadSize), into: &output)
        return output
    }

    /// `{"f":0,"l":4096,"i":2,"p":"<base64>"}`.
    public var jsonEncoded: [UInt8] {
        JSONValue.object(
            JSONObject([
                JSONMember("f", .unsigned(fileID)), JSONMember("l", .integer(payload.count)),
                JSONMember("i", .unsigned(blockIndex)), JSONMember("p", .string(Base64.encode(payload))),
            ])
        ).serialized
    }

    /// The device's check (§5.2): a map with integer `f`, `i`, `l` and a byte-string `p` whose length is `l`.
    public static func decodeCBOR(_ payload: [UInt8]) -> StreamDataBlock? {
        guard let value = try? CBORDecoder.decode(payload), let fileID = value["f"]?.unsignedValue,
            let index = value["i"]?.unsignedValue, let length = value["l"]?.unsignedValue,
            let bytes = value["p"]?.bytesValue, UInt64(bytes.count) == length
        else { return nil }
        return StreamDataBlock(fileID: fileID, blockIndex: index, payload: bytes)
    }
}
