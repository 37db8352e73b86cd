import Foundation
import OTAService
import TestSupport
import Testing

// A device on Wi-Fi reconnects over a half-open link: its new connection takes the session over, and the old
// socket closes later (the server closes it at the takeover, or the peer's stack gives up on it). The old
// connection's end must not take the new session's request handling with it.
@Suite(.serialized) struct SessionTakeoverTests {
    static let jobs = "$aws/things/dev/jobs/"

    @Test(arguments: [false, true])
    func aDeviceThatReconnectsOverAHalfOpenLinkKeepsGettingAnswers(peerClosesOldSocket: Bool) async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        let old = try await service.device("dev")
        try await old.publish(Self.jobs + "$next/get", json: #"{"clientToken":"old"}"#)
        _ = try await old.take(Self.jobs + "$next/get/accepted")

        // The old connection stays silent; a second one with the same client id connects and takes over.
        let new = try await service.reconnectWithoutClosing(old)
        if peerClosesOldSocket { await old.client.dropConnection() }
        #expect(await eventually { service.server.mqtt.takeoverCount == 1 })
        try await Task.sleep(for: .milliseconds(300))  // the old socket's close has been handled by now

        for round in 0..<3 {
            try await new.publish(Self.jobs + "$next/get", json: #"{"clientToken":"new-\#(round)"}"#)
            let answer = try await new.takeText(Self.jobs + "$next/get/accepted")
            #expect(answer.contains("new-\(round)"))
        }
        #expect(service.server.mqtt.connectedClientCount == 1)
        await new.close()
        await old.close()
    }
}
