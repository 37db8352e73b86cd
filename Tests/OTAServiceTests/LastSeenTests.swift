import OTAService
import TestSupport
import Testing

// A thing's "last seen" is recorded when it connects, to the minute: reconnecting sooner costs no write.
@Suite struct LastSeenTests {
    @Test func aConnectionRecordsLastSeenAndReconnectsWithinAMinuteWriteNothing() async throws {
        let service = try await ServiceHarness()
        defer { Task { await service.shutdown() } }
        func lastSeen() async -> Int64? {
            try? await service.server.store.read { try $0.thing(named: "seen")?.lastSeenAt }
        }
        let first = service.clock.now
        var device = try await service.device("seen")
        #expect(await eventually { await lastSeen() == first })

        service.clock.advance(by: 30)
        device = try await service.reconnect(device)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await lastSeen() == first, "30 s later: not written again")

        service.clock.advance(by: 31)
        device = try await service.reconnect(device)
        #expect(await eventually { await lastSeen() == first + 61 }, "a minute later: written")
        await device.close()
    }
}
