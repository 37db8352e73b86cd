// What one JSON or CBOR parse may take on. Device requests come from anyone holding a device certificate, so the
// service parses them under tight bounds, checked before or while parsing (never after building a huge value):
// the input size before the first byte is read, nesting depth and members per object or map as they are met.
// The agent and the service's own stored documents use the looser defaults, which bound only the depth (the
// stack).

public struct DecodingLimits: Sendable, Equatable {
    /// Input longer than this is refused without being read.
    public var maximumBytes: Int
    /// Containers (objects and arrays; maps, arrays and tags) nested deeper than this are refused.
    public var maximumDepth: Int
    /// Members of one JSON object, or pairs of one CBOR map.
    public var maximumMembers: Int

    func sizeExceeded(_ count: Int) -> String { "\(count) bytes, at most \(maximumBytes) accepted" }

    public init(maximumBytes: Int, maximumDepth: Int, maximumMembers: Int) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumMembers = maximumMembers
    }

    public static let json = DecodingLimits(maximumBytes: Int.max, maximumDepth: 32, maximumMembers: Int.max)
    public static let cbor = DecodingLimits(maximumBytes: Int.max, maximumDepth: 16, maximumMembers: Int.max)

    /// A Jobs or Streams request from a device. The agents send a few hundred bytes with at most a handful of keys
    /// and statusDetails one level down; the largest legitimate request, a GetStream bitmap at the service's 12,288
    /// byte limit written as JSON hex, is about 24.6 KiB.
    public static let deviceRequest = DecodingLimits(maximumBytes: 32 * 1024, maximumDepth: 8, maximumMembers: 64)
}

/// Why a parse failed: the input is malformed, or it may be well-formed but exceeds the limits the caller set.
/// Device requests answer the first with InvalidJson/InvalidCbor and the second with InvalidRequest.
public enum DecodingFailure: Sendable, Equatable {
    case malformed
    case limitExceeded
}
