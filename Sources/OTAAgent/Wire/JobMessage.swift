// What a Jobs message offers the agent, with the FreeRTOS agent's rules for the `afr_ota` document
// (aws-ota-wire.md §4): `protocols` and `files` required, only the first file used, `filesize` and `fileid`
// required unsigned 32-bit numbers (strtoul: a number or a numeric string), every other key optional but of its
// type when present. The same rules as OTAWire's `OTAJobDocument(parsing:)`, read from a `JobMessageScanner`.
import OTAWire

/// The first file of an `afr_ota` document, as the agent uses it.
struct OfferedFile {
    /// The `protocols` names the agent knows.
    var protocols: OTADataProtocols
    var streamName: [UInt8]?
    var fileSize: UInt32
    var fileID: UInt32
    /// 0 = firmware (reboot and self-test); other values are data files, accepted without reboot.
    var fileType: UInt32
    var certificate: [UInt8]
    /// base64 DER ECDSA P-256 signature (`sig-sha256-ecdsa`), still encoded.
    var signature: [UInt8]
    var url: [UInt8]?

    var isFirmware: Bool { fileType == 0 }
}

/// The self-test details a job's `statusDetails` carries after the reboot.
struct SelfTestDetails {
    /// `self_test`'s value when it is a string ("ready", "active").
    var phase: [UInt8]?
    /// `updatedBy`: the version that ran before the update (0 when absent or not a number).
    var updatedBy: AppVersion32
}

enum JobMessage {
    /// No execution: a timestamp-only answer, or a message the agent cannot read (ignored; the state stands).
    case nothingPending
    /// An execution; `file` is nil when the document does not conform (the job fails with a parser error).
    case job(id: [UInt8], file: OfferedFile?, selfTest: SelfTestDetails?)

    init(parsing payload: [UInt8]) {
        guard let message = JobMessageScanner.scan(payload), message[.execution].kind == .object else {
            self = .nothingPending
            return
        }
        let id = message[.jobID]
        guard id.kind == .string, !id.bytes.isEmpty, id.bytes.count <= AgentLimits.maximumJobIDBytes else {
            self = .nothingPending
            return
        }
        let selfTest =
            message[.selfTest].kind == .absent
            ? nil
            : SelfTestDetails(
                phase: message[.selfTest].kind == .string ? message[.selfTest].bytes : nil,
                updatedBy: AppVersion32(
                    rawValue: UInt32(message[.updatedBy].unsigned(maximum: UInt64(UInt32.max)) ?? 0)))
        self = .job(id: id.bytes, file: Self.file(message), selfTest: selfTest)
    }

    private static func file(_ message: JobMessageScanner) -> OfferedFile? {
        guard message[.afrOTA].kind == .object, message[.protocols].kind == .array, message.protocolsAreText,
            message[.files].kind == .array, message[.firstFile].kind == .object,
            let size = number(message[.fileSize]), let id = number(message[.fileID])
        else { return nil }
        var fileType: UInt32 = 0
        if message[.fileType].kind != .absent {
            guard let type = number(message[.fileType]) else { return nil }
            fileType = type
        }
        for field in JobField.streamName.rawValue...JobField.authScheme.rawValue {
            let kind = message.fields[field].kind
            guard kind == .absent || kind == .string else { return nil }
        }
        return OfferedFile(
            protocols: message.listedProtocols, streamName: string(message[.streamName]), fileSize: size, fileID: id,
            fileType: fileType, certificate: message[.certFile].bytes, signature: message[.signature].bytes,
            url: string(message[.updateDataURL]))
    }

    private static func number(_ value: JobFieldValue) -> UInt32? {
        value.unsigned(maximum: UInt64(UInt32.max)).map { UInt32($0) }
    }

    private static func string(_ value: JobFieldValue) -> [UInt8]? {
        value.kind == .string ? value.bytes : nil
    }
}
