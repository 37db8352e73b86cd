import OTAAgent
import OTAWire

/// An in-memory platform that records what the agent asked of it; the receive file is a byte array.
struct RecordingPlatform: OTAPlatform {
    var runningVersion: AppVersion32
    var nowMilliseconds: UInt64 = 1_000
    var file: [UInt8] = []
    var stored: [UInt8]?
    var state = PlatformImageState.valid
    var calls: [String] = []
    var closeResult = PALStatus.success
    var signatureSeen: [UInt8] = []

    init(version: String) { runningVersion = AppVersion32(version)! }

    mutating func createFile(size: UInt32, fileType: UInt32) -> PALStatus {
        calls.append("create \(size)")
        file = Array(repeating: 0xFF, count: Int(size))
        return .success
    }
    mutating func reopenFile(size: UInt32, fileType: UInt32) -> PALStatus {
        calls.append("reopen \(size)")
        return file.count == Int(size) ? .success : .uninitialized
    }
    mutating func writeBlock(offset: UInt32, bytes: ArraySlice<UInt8>) -> PALStatus {
        file.replaceSubrange(Int(offset)..<Int(offset) + bytes.count, with: bytes)
        return .success
    }
    mutating func closeFile(signature: [UInt8], certificate: ByteString) -> PALStatus {
        calls.append("close")
        signatureSeen = signature
        return closeResult
    }
    mutating func activate() -> PALStatus {
        calls.append("activate")
        return .success
    }
    mutating func reset() { calls.append("reset") }
    mutating func setImageState(_ state: OTAImageState) -> PALStatus {
        calls.append("state \(state)")
        return .success
    }
    func imageState() -> PlatformImageState { state }
    mutating func abortFile() { calls.append("abort") }
    func loadState() -> [UInt8]? { stored }
    mutating func saveState(_ bytes: [UInt8]) { stored = bytes.isEmpty ? nil : bytes }
}

/// Records publishes and subscriptions.
struct RecordingConnection: OTAConnection {
    var published: [(topic: String, bytes: [UInt8], qos: UInt8)] = []
    var subscriptions: Set<String> = []

    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8) {
        published.append((String(decoding: topic, as: UTF8.self), payload, qos))
    }
    mutating func subscribe(_ filter: [UInt8], qos: UInt8) {
        subscriptions.insert(String(decoding: filter, as: UTF8.self))
    }
    mutating func unsubscribe(_ filter: [UInt8]) { subscriptions.remove(String(decoding: filter, as: UTF8.self)) }

    func payloads(on topic: String) -> [String] {
        published.filter { $0.topic == topic }.map { String(decoding: $0.bytes, as: UTF8.self) }
    }
}

/// Messages a service would send, built from OTAWire.
enum Service {
    static func job(
        _ jobID: String = "AFR_OTA-u1", size: Int, stream: String = "AFR_OTA-s1", signature: [UInt8] = [0x30, 0x44],
        statusDetails: String? = nil, fileType: Int? = nil
    ) -> [UInt8] {
        let type = fileType.map { #","fileType":\#($0)"# } ?? ""
        let details = statusDetails.map { #""statusDetails":\#($0),"# } ?? ""
        let document =
            #"{"afr_ota":{"protocols":["MQTT"],"streamname":"\#(stream)","files":[{"filepath":"/","filesize":\#(size),"#
            + #""fileid":0,"certfile":"Code Verify Key","sig-sha256-ecdsa":"\#(Base64.encode(signature))"\#(type)}]}}"#
        return Array(
            #"{"clientToken":"1:dev","timestamp":1,"execution":{"jobId":"\#(jobID)","thingName":"dev","#
                .utf8)
            + Array(#"\#(details)"status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"#.utf8)
            + Array(#""executionNumber":1,"jobDocument":\#(document)}}"#.utf8)
    }

    static func block(_ index: Int, of file: [UInt8]) -> [UInt8] {
        let start = index * 4096
        let end = min(start + 4096, file.count)
        return StreamDataBlock(fileID: 0, blockIndex: UInt64(index), payload: Array(file[start..<end])).cborEncoded
    }
}
