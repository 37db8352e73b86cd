// The `afr_ota` job document (aws-ota-wire.md §4): what CreateOTAUpdate puts in the job and what the FreeRTOS
// agent parses. Built compact with the keys in AWS's order; parsed with the agent's rules (strtoul numbers,
// required keys, only the first file used).

public struct OTAFileEntry: Equatable, Sendable {
    public var filePath: String
    public var fileSize: UInt32
    public var fileID: UInt32
    public var certFile: String
    /// base64 DER ECDSA P-256 signature over SHA-256 of the whole file (`sig-sha256-ecdsa`).
    public var signature: String
    /// 0 = firmware (reboot and self-test); other values are data files, accepted without reboot.
    public var fileType: UInt32?
    public var updateDataURL: String?
    public var authScheme: String?

    public init(
        filePath: String, fileSize: UInt32, fileID: UInt32, certFile: String, signature: String,
        fileType: UInt32? = nil, updateDataURL: String? = nil, authScheme: String? = nil
    ) {
        self.filePath = filePath
        self.fileSize = fileSize
        self.fileID = fileID
        self.certFile = certFile
        self.signature = signature
        self.fileType = fileType
        self.updateDataURL = updateDataURL
        self.authScheme = authScheme
    }

    public var isFirmware: Bool { (fileType ?? 0) == 0 }
}

public enum JobDocumentError: Error, Equatable, CustomStringConvertible {
    case notAnOTAJob
    case missingKey(String)
    case badValue(String)

    public var description: String {
        switch self {
        case .notAnOTAJob: return "the job document has no afr_ota object"
        case .missingKey(let key): return "the afr_ota document lacks the required key '\(key)'"
        case .badValue(let key): return "the afr_ota key '\(key)' has a value the agent cannot use"
        }
    }
}

public struct OTAJobDocument: Equatable, Sendable {
    public var protocols: [String]
    public var streamName: String?
    public var files: [OTAFileEntry]

    public init(protocols: [String] = ["MQTT"], streamName: String?, files: [OTAFileEntry]) {
        self.protocols = protocols
        self.streamName = streamName
        self.files = files
    }

    /// `{"afr_ota":{"protocols":["MQTT"],"streamname":"…","files":[{"filepath":…,"filesize":…,"fileid":…,
    /// "certfile":…,"sig-sha256-ecdsa":…}]}}`
    public var json: JSONValue {
        var ota = JSONObject([JSONMember("protocols", .array(protocols.map { .string($0) }))])
        if let streamName { ota.set("streamname", .string(streamName)) }
        ota.set("files", .array(files.map { .object(Self.fileObject($0)) }))
        return .object(JSONObject([JSONMember("afr_ota", .object(ota))]))
    }

    private static func fileObject(_ file: OTAFileEntry) -> JSONObject {
        var object = JSONObject([
            JSONMember("filepath", .string(file.filePath)),
            JSONMember("filesize", .unsigned(UInt64(file.fileSize))),
            JSONMember("fileid", .unsigned(UInt64(file.fileID))),
            JSONMember("certfile", .string(file.certFile)),
        ])
        if let url = file.updateDataURL { object.set("update_data_url", .string(url)) }
        if let scheme = file.authScheme { object.set("auth_scheme", .string(scheme)) }
        object.set("sig-sha256-ecdsa", .string(file.signature))
        if let type = file.fileType { object.set("fileType", .unsigned(UInt64(type))) }
        return object
    }

    /// Parses `execution.jobDocument` the way the v3 agent does; only the first file is used (OTA_MAX_FILES = 1).
    public init(parsing document: JSONValue) throws(JobDocumentError) {
        guard let ota = document["afr_ota"]?.objectValue else { throw .notAnOTAJob }
        guard let protocols = ota["protocols"]?.arrayValue else { throw .missingKey("protocols") }
        self.protocols = []
        for item in protocols {
            guard let name = item.stringValue else { throw .badValue("protocols") }
            self.protocols.append(name)
        }
        if let stream = ota["streamname"] {
            guard let name = stream.stringValue else { throw .badValue("streamname") }
            streamName = name
        } else {
            streamName = nil
        }
        guard let files = ota["files"]?.arrayValue else { throw .missingKey("files") }
        guard let first = files.first else { throw .missingKey("files[0]") }
        self.files = [try Self.parseFile(first)]
    }

    private static func parseFile(_ value: JSONValue) throws(JobDocumentError) -> OTAFileEntry {
        func number(_ key: String, required: Bool) throws(JobDocumentError) -> UInt32? {
            guard let field = value[key] else {
                if required { throw .missingKey(key) }
                return nil
            }
            guard let number = field.unsignedValue(maximum: UInt64(UInt32.max)) else { throw .badValue(key) }
            return UInt32(number)
        }
        func text(_ key: String) throws(JobDocumentError) -> String? {
            guard let field = value[key] else { return nil }
            guard let text = field.stringValue else { throw .badValue(key) }
            return text
        }
        guard let size = try number("filesize", required: true), let id = try number("fileid", required: true) else {
            throw .missingKey("filesize")
        }
        return OTAFileEntry(
            filePath: try text("filepath") ?? "", fileSize: size, fileID: id, certFile: try text("certfile") ?? "",
            signature: try text("sig-sha256-ecdsa") ?? "", fileType: try number("fileType", required: false),
            updateDataURL: try text("update_data_url"), authScheme: try text("auth_scheme"))
    }
}
