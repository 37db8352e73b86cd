// A minimal firmware around OTAAgent for scripts/check-embedded: a stub platform and connection that do nothing,
// so that the linked, dead-stripped .text is what the agent (and the OTAWire code it uses) costs a device. It
// drives the agent the way a C port would: topics and payloads as bytes from the MQTT stack.
import OTAAgent
import OTAWire

struct StubPlatform: OTAPlatform {
    var runningVersion: AppVersion32 { AppVersion32(rawValue: 0x0102_0003) }
    var nowMilliseconds: UInt64 = 0
    mutating func createFile(size: UInt32, fileType: UInt32) -> PALStatus { .success }
    mutating func reopenFile(size: UInt32, fileType: UInt32) -> PALStatus { .success }
    mutating func writeBlock(offset: UInt32, bytes: ArraySlice<UInt8>) -> PALStatus { .success }
    mutating func closeFile(signature: [UInt8], certificate: ByteString) -> PALStatus { .success }
    mutating func activate() -> PALStatus { .success }
    mutating func reset() {}
    mutating func setImageState(_ state: OTAImageState) -> PALStatus { .success }
    func imageState() -> PlatformImageState { .valid }
    mutating func abortFile() {}
    func loadState() -> [UInt8]? { nil }
    mutating func saveState(_ bytes: [UInt8]) {}
}

struct StubConnection: OTAConnection {
    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8) {}
    mutating func subscribe(_ filter: [UInt8], qos: UInt8) {}
    mutating func unsubscribe(_ filter: [UInt8]) {}
    var dataProtocols: OTADataProtocols { [.mqtt, .http] }
    mutating func getRange(_ request: HTTPRangeRequest) {}
}

@_cdecl("ota_agent_main")
public func otaAgentMain(
    _ thing: UnsafePointer<UInt8>, _ thingLength: Int, _ topic: UnsafePointer<UInt8>, _ topicLength: Int,
    _ message: UnsafePointer<UInt8>, _ length: Int
) {
    var agent = OTAAgent(
        thingName: ByteString(bytes: Array(UnsafeBufferPointer(start: thing, count: thingLength))),
        platform: StubPlatform(), connection: StubConnection(), preferredDataProtocol: .http)
    let topic = Array(UnsafeBufferPointer(start: topic, count: topicLength))
    let payload = Array(UnsafeBufferPointer(start: message, count: length))
    _ = agent.start()
    _ = agent.handle(topic: topic, payload: payload)
    _ = agent.tick()
    _ = agent.handleHTTPResponse(
        to: HTTPRangeRequest(url: ByteString(bytes: topic), first: 0, last: 4095), status: 206, body: payload)
    _ = agent.acceptImage()
    _ = agent.rejectImage()
    _ = agent.reconnected()
}
