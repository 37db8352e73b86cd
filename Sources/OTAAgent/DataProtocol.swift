// The data plane a download uses (aws-ota-wire.md §4.2, §8): MQTT blocks from a stream, or HTTP range requests
// to the job document's `update_data_url`. Like the FreeRTOS agent (`setDataInterface`), a device has a preferred
// protocol and uses it when the document lists it, else another one it can use; a document listing none of those
// fails the job with `aborted: 0x0000000d` (OtaErrInvalidDataProtocol, §8.1).
//
// The agent cannot do networking: for HTTP it hands the host one `HTTPRangeRequest` at a time through its
// connection (`OTAConnection.getRange`) and the host answers with `OTAAgent.handleHTTPResponse(to:status:body:)`.
import OTAWire

public enum OTADataProtocol: UInt8, Equatable, Sendable {
    case mqtt = 1
    case http = 2

    /// The name in the job document's `protocols` array.
    public var wireName: String {
        switch self {
        case .mqtt: return "MQTT"
        case .http: return "HTTP"
        }
    }
}

/// The data protocols a host can carry (FreeRTOS `configENABLED_DATA_PROTOCOLS`).
public struct OTADataProtocols: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let mqtt = OTADataProtocols(rawValue: OTADataProtocol.mqtt.rawValue)
    public static let http = OTADataProtocols(rawValue: OTADataProtocol.http.rawValue)

    public func contains(_ single: OTADataProtocol) -> Bool { rawValue & single.rawValue != 0 }

    /// The protocol a document's `protocols` list leads to: `preferred` when it is listed and enabled, else the
    /// first other enabled protocol the list names; nil when none fits.
    public func choose(listed: [String], preferred: OTADataProtocol) -> OTADataProtocol? {
        func fits(_ candidate: OTADataProtocol) -> Bool {
            contains(candidate) && listed.contains { sameBytes($0, candidate.wireName) }
        }
        if fits(preferred) { return preferred }
        for candidate in [OTADataProtocol.mqtt, .http] where candidate != preferred && fits(candidate) {
            return candidate
        }
        return nil
    }
}

/// `GET url` with `Range: bytes=first-last` (both inclusive): one block of the file. Only a 206 whose body is exactly
/// `last - first + 1` bytes is data (§8).
public struct HTTPRangeRequest: Equatable, Sendable {
    /// The job document's `update_data_url`, used as-is (scheme, host, port, path and query).
    public let url: String
    public let first: UInt32
    public let last: UInt32

    public init(url: String, first: UInt32, last: UInt32) {
        self.url = url
        self.first = first
        self.last = last
    }

    /// Byte equality of the URL: String's `==` would link Unicode normalisation into the firmware.
    public static func == (lhs: HTTPRangeRequest, rhs: HTTPRangeRequest) -> Bool {
        lhs.first == rhs.first && lhs.last == rhs.last && sameBytes(lhs.url, rhs.url)
    }

    /// The value of the `Range` header.
    public var rangeHeader: String { "bytes=" + String(first) + "-" + String(last) }
    public var length: Int { Int(last - first) + 1 }
}

extension OTAConnection {
    /// An MQTT-only host by default: the agent never asks it for HTTP.
    public var dataProtocols: OTADataProtocols { .mqtt }
    public mutating func getRange(_ request: HTTPRangeRequest) {}
}

extension BlockBitmap {
    /// The lowest block still needed (HTTP fetches blocks strictly in order, §8).
    var firstNeeded: Int? {
        for (index, byte) in bytes.enumerated() where byte != 0 {
            let block = index * 8 + byte.trailingZeroBitCount
            return block < blockCount ? block : nil
        }
        return nil
    }
}
