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
}

/// The data protocols a host can carry (FreeRTOS `configENABLED_DATA_PROTOCOLS`).
public struct OTADataProtocols: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let mqtt = OTADataProtocols(rawValue: OTADataProtocol.mqtt.rawValue)
    public static let http = OTADataProtocols(rawValue: OTADataProtocol.http.rawValue)

    /// The protocol a document's `protocols` list (`listed`: the names in it the agent knows) leads to: `preferred`
    /// when it is listed and enabled, else the other protocol when it is listed and enabled; nil when none fits.
    public func choose(listed: OTADataProtocols, preferred: OTADataProtocol) -> OTADataProtocol? {
        let usable = rawValue & listed.rawValue
        if usable & preferred.rawValue != 0 { return preferred }
        return usable == 0 ? nil : OTADataProtocol(rawValue: usable)
    }
}

/// `GET url` with `Range: bytes=first-last` (both inclusive): one block of the file. Only a 206 whose body is exactly
/// `last - first + 1` bytes is data (§8).
public struct HTTPRangeRequest: Equatable, Sendable {
    /// The job document's `update_data_url`, used as-is (scheme, host, port, path and query).
    public let url: ByteString
    public let first: UInt32
    public let last: UInt32

    public init(url: ByteString, first: UInt32, last: UInt32) {
        self.url = url
        self.first = first
        self.last = last
    }

    /// For hosted code that has the URL as a String.
    public init(url: String, first: UInt32, last: UInt32) {
        self.init(url: ByteString(url), first: first, last: last)
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
