import Foundation
import OTAService
import Testing

// A thing's lastSeenAt is written on connect at most once per `lastSeenResolutionSeconds` (a minute by default):
// reconnects sooner cost no write; with 0, every connection writes.
@Suite(.serialized) struct LastSeenResolutionTests {
    @Test(arguments: [(nil, 2), (0, 3)] as [(Int64?, Int)])
    func reconnectsWithinTheResolutionWriteNothing(resolution: Int64?, writes: Int) async throws {
        let service = try await ServiceHarness { configuration in
            if let resolution { configuration.lastSeenResolutionSeconds = resolution }
        }
        defer { Task { await service.shutdown() } }
        let start = service.clock.now
        var device = try await service.device("esp-1")
        try await lastSeen(of: "esp-1", in: service, becomes: start)
        service.clock.advance(by: 10)
        device = try await service.reconnect(device)
        if resolution == 0 { try await lastSeen(of: "esp-1", in: service, becomes: start + 10) }
        service.clock.advance(by: 60)
        device = try await service.reconnect(device)
        try await lastSeen(of: "esp-1", in: service, becomes: start + 70)
        await device.close()
        // A write that was not due must not come late either.
        try await Task.sleep(for: .milliseconds(300))
        #expect(service.server.store.reportCommits.reports == writes)
    }

    private func lastSeen(of thing: String, in service: ServiceHarness, becomes time: Int64) async throws {
        for _ in 0..<200 {
            if try await service.server.store.read({ try $0.thing(named: thing) })?.lastSeenAt == time { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("\(thing)'s lastSeenAt never became \(time)")
    }
}
