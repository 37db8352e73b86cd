// The one `Range` form a data-plane client needs (RFC 9110 §14.1.2): a single `bytes=first-last`, `bytes=first-`
// or suffix `bytes=-length`. The FreeRTOS agent asks for one 4 KiB block per request (aws-ota-wire.md §8); several
// ranges in one request are refused rather than answered with a multipart body no device parses.

public enum ByteRangeError: Error, Equatable {
    /// Not a byte range this server understands (416 with the file size).
    case unsupported(String)
    /// A well-formed range that starts past the end of the file (416).
    case unsatisfiable
}

public struct ByteRange: Equatable, Sendable {
    public let first: Int
    public let last: Int

    public var count: Int { last - first + 1 }

    /// The range `header` asks for within a file of `size` bytes (size > 0); the last byte is clamped to the file.
    public init(header: String, size: Int) throws(ByteRangeError) {
        guard size > 0 else { throw .unsatisfiable }
        guard header.hasPrefix("bytes=") else { throw .unsupported("only bytes ranges are served") }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(" ")
        guard !spec.contains(",") else { throw .unsupported("one range per request") }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .unsupported("a range is first-last") }
        let firstText = parts[0].trimmingCharacters(" ")
        let lastText = parts[1].trimmingCharacters(" ")
        if firstText.isEmpty {
            guard let length = Self.number(lastText), length > 0 else { throw .unsupported("bad suffix length") }
            first = max(0, size - length)
            last = size - 1
            return
        }
        guard let start = Self.number(firstText) else { throw .unsupported("bad first byte") }
        var end = size - 1
        if !lastText.isEmpty {
            guard let stated = Self.number(lastText), stated >= start else { throw .unsupported("bad last byte") }
            end = min(stated, size - 1)
        }
        guard start < size else { throw .unsatisfiable }
        first = start
        last = end
    }

    /// Decimal digits only (no sign, no spaces), at most 15 of them: no overflow.
    private static func number(_ text: Substring) -> Int? {
        guard (1...15).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int(text)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(_ character: Character) -> Substring {
        var result = self
        while result.first == character { result = result.dropFirst() }
        while result.last == character { result = result.dropLast() }
        return result
    }
}
