// CBOR (RFC 8949) as the Streams API uses it (aws-ota-wire.md §5): maps with one-letter text keys, unsigned
// integers, byte strings. The decoder accepts every well-formed item (definite and indefinite lengths, tags,
// floats) so that it can say precisely what is wrong with a request instead of failing on the first surprise.

public indirect enum CBORValue: Equatable, Sendable {
    case unsigned(UInt64)
    /// The negative integer -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    case map([CBORPair])
    case tagged(UInt64, CBORValue)
    /// Simple values: 20 false, 21 true, 22 null, 23 undefined, others unassigned.
    case simple(UInt8)
    case float(Double)

    /// The value for a text key in a map; nil when this is not a map or the key is absent.
    public subscript(key: String) -> CBORValue? {
        guard case .map(let pairs) = self else { return nil }
        for pair in pairs {
            if case .text(let text) = pair.key, sameBytes(text, key) { return pair.value }
        }
        return nil
    }

    public var unsignedValue: UInt64? {
        if case .unsigned(let value) = self { return value }
        return nil
    }

    public var bytesValue: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    public var textValue: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

public struct CBORPair: Equatable, Sendable {
    public var key: CBORValue
    public var value: CBORValue

    public init(_ key: CBORValue, _ value: CBORValue) {
        self.key = key
        self.value = value
    }
}

public struct CBORError: Error, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public let failure: DecodingFailure

    public init(offset: Int, reason: String, failure: DecodingFailure = .malformed) {
        self.offset = offset
        self.reason = reason
        self.failure = failure
    }

    public var description: String {
        switch failure {
        case .malformed: "invalid CBOR at byte \(offset): \(reason)"
        case .limitExceeded: "CBOR over the limits at byte \(offset): \(reason)"
        }
    }
}
