// The UpdateJobExecution payloads the agent sends, byte for byte as the FreeRTOS agent (aws-ota-wire.md §3.4):
// `{"status":"…","statusDetails":{…}}` written directly as bytes.
import OTAWire

enum AgentReports {
    static func progress(received: Int, total: Int) -> [UInt8] {
        var value: [UInt8] = []
        value.appendDecimal(UInt32(received))
        value.append(0x2F)
        value.appendDecimal(UInt32(total))
        var report = status("IN_PROGRESS", firstKey: "receive", value)
        return close(&report)
    }

    static func selfTest(_ phase: StaticString, updatedBy: AppVersion32) -> [UInt8] {
        var report = status("IN_PROGRESS", firstKey: "self_test", [UInt8](ascii: phase))
        var version: [UInt8] = []
        version.appendHex8(updatedBy.rawValue)
        add(&report, "updatedBy", version)
        return close(&report)
    }

    static func accepted(new: AppVersion32, old: AppVersion32) -> [UInt8] {
        var reason = [UInt8](ascii: "accepted  v")
        reason.appendVersion(new)
        var report = status("SUCCEEDED", firstKey: "reason", reason)
        var previous = [UInt8](ascii: "  v")
        previous.appendVersion(old)
        add(&report, "updatedBy", previous)
        return close(&report)
    }

    /// `rejected: 0x<OtaErr>` (version rule, self-test), `aborted: 0x<code>`, or `0x<main>: 0x<sub>` (ingest).
    static func failed(_ reason: [UInt8]) -> [UInt8] {
        var report = status("FAILED", firstKey: "reason", reason)
        return close(&report)
    }

    /// `rejected: 0x<code>` or `aborted: 0x<code>`.
    @inline(never)
    static func reason(_ prefix: StaticString, _ code: UInt32) -> [UInt8] {
        var reason = [UInt8](ascii: prefix)
        reason.append(ascii: ": ")
        reason.appendHex8(code)
        return reason
    }

    static func ingestFailure(_ status: PALStatus) -> [UInt8] {
        codes(UInt32(status.main), status.sub)
    }

    /// `0x<first>: 0x<second>`.
    @inline(never)
    static func codes(_ first: UInt32, _ second: UInt32) -> [UInt8] {
        var reason: [UInt8] = []
        reason.appendHex8(first)
        reason.append(ascii: ": ")
        reason.appendHex8(second)
        return reason
    }

    /// `{"status":"<status>","statusDetails":{"<key>":"<value>"` — the caller adds members and closes.
    @inline(never)
    private static func status(_ status: StaticString, firstKey: StaticString, _ value: [UInt8]) -> [UInt8] {
        var report = [UInt8](ascii: #"{"status":""#)
        report.append(ascii: status)
        report.append(ascii: #"","statusDetails":{"#)
        member(&report, firstKey, value)
        return report
    }

    private static func add(_ report: inout [UInt8], _ key: StaticString, _ value: [UInt8]) {
        report.append(0x2C)
        member(&report, key, value)
    }

    @inline(never)
    private static func member(_ report: inout [UInt8], _ key: StaticString, _ value: [UInt8]) {
        report.append(0x22)
        report.append(ascii: key)
        report.append(ascii: #"":"#)
        report.appendJSONString(value)
    }

    private static func close(_ report: inout [UInt8]) -> [UInt8] {
        report.append(ascii: "}}")
        return report
    }
}

/// OtaErr_t values that appear in reasons (aws-ota-wire.md §3.4).
enum OTAErrorCode {
    static let none: UInt32 = 0
    static let jobParserError: UInt32 = 12
    /// No data protocol of the document is one the device can use (§8.1).
    static let invalidDataProtocol: UInt32 = 13
    static let downgradeNotAllowed: UInt32 = 15
    static let sameFirmwareVersion: UInt32 = 16
    static let imageStateMismatch: UInt32 = 17
    static let userAbort: UInt32 = 19
    /// OtaJobParseErr_t NonConformingJobDoc.
    static let nonConformingJobDocument: UInt32 = 4
}
