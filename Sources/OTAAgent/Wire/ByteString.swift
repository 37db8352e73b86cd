// Text as the agent holds it: UTF-8 bytes, compared byte by byte, as they came off the wire or go onto it (job
// ids, failure reasons, the download URL, the certificate name). A device's MQTT and HTTP stacks deal in bytes
// too; a String here would link String's Unicode machinery (indices, breadcrumbs, normalisation) into the
// firmware. Hosted code reads one through `description`, and tests write them as string literals.

public struct ByteString: Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible,
    CustomDebugStringConvertible
{
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(stringLiteral literal: StaticString) { bytes = [UInt8](ascii: literal) }

    /// For hosted code; the agent itself never converts from String.
    public init(_ text: String) { bytes = Array(text.utf8) }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Quoted, as a String prints inside an event: `succeeded(jobID: "AFR_OTA-u1")`.
    public var debugDescription: String { description.debugDescription }
}
