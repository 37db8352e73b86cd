// The UpdateJobExecution payloads the agent sends, byte for byte as the FreeRTOS agent (aws-ota-wire.md §3.4).
import OTAWire

enum AgentReports {
    static func progress(received: Int, total: Int) -> [UInt8] {
        status("IN_PROGRESS", [JSONMember("receive", .string(String(received) + "/" + String(total)))])
    }

    static func selfTest(_ phase: String, updatedBy: AppVersion32) -> [UInt8] {
        status(
            "IN_PROGRESS",
            [JSONMember("self_test", .string(phase)), JSONMember("updatedBy", .string(updatedBy.hexString))])
    }

    static func accepted(new: AppVersion32, old: AppVersion32) -> [UInt8] {
        status(
            "SUCCEEDED",
            [
                JSONMember("reason", .string("accepted  v" + new.description)),
                JSONMember("updatedBy", .string("  v" + old.description)),
            ])
    }

    /// `rejected: 0x<OtaErr>` (version rule, self-test), `aborted: 0x<code>`, or `0x<main>: 0x<sub>` (ingest).
    static func failed(_ reason: String) -> [UInt8] {
        status("FAILED", [JSONMember("reason", .string(reason))])
    }

    static func ingestFailure(_ status: PALStatus) -> String {
        hex8(UInt32(status.main)) + ": " + hex8(status.sub)
    }

    private static func status(_ status: String, _ details: [JSONMember]) -> [UInt8] {
        JSONValue.object(
            JSONObject([
                JSONMember("status", .string(status)), JSONMember("statusDetails", .object(JSONObject(details))),
            ])
        ).serialized
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
