import OTAWire
import Testing

@testable import OTAAgent

// What the agent keeps in RAM at the largest job it accepts: a 128-byte thing name, a 64-byte job id, a 4 MiB file
// (a 128-byte bitmap), a 72-byte DER signature and a 1,500-byte presigned URL. The FreeRTOS agent documents about
// 5 KB of its own plus its block buffers; this agent has no block buffer (it writes the block straight from the
// received message), so its state is the figure to compare.
struct AgentMemoryTests {
    @Test func theAgentsStateAtTheLargestJobStaysSmall() {
        let thing = String(repeating: "t", count: 128)
        let jobID = "AFR_OTA-" + String(repeating: "j", count: 56)
        let url = "https://ota.example:8443/data/u1?" + String(repeating: "q", count: 1500 - 33)
        var agent = OTAAgent(
            thingName: thing, platform: RecordingPlatform(version: "1.0.0"), connection: HTTPConnection(),
            preferredDataProtocol: .http)
        _ = agent.start()
        let idle = agent.heapBytes
        let job = Service.httpJob(
            jobID, size: AgentLimits.maximumFileSize, url: url, signature: Array(repeating: 0x30, count: 72))
        let events = agent.handle(topic: "$aws/things/\(thing)/jobs/notify-next", payload: job)
        #expect(events.first == .downloadStarted(jobID: ByteString(jobID), fileSize: 4_194_304, resumedBlocks: 0))
        let downloading = agent.heapBytes
        // The URL (shared by the source and the request in flight), the bitmap, id, signature and the topics.
        #expect(downloading > 1500 + 128 + 64 + 72 && downloading <= 2048, "\(downloading) bytes")
        #expect(idle <= 256, "\(idle) bytes")
        print("agent state: \(idle) bytes idle, \(downloading) bytes at the largest job (thing name 128 B, URL 1500 B)")
    }
}
