import Testing

@testable import MQTT

// The server connection's lifecycle as a pure value: every way a connection ends detaches its session exactly
// once, and only an end without DISCONNECT publishes the will.
@Suite struct ConnectionLifecycleTests {
    @Test func aCleanDisconnectStillDetachesTheSessionButDropsTheWill() {
        var lifecycle = ConnectionLifecycle()
        #expect(lifecycle.awaitsConnect && lifecycle.clientID == nil)
        lifecycle.accepted(clientID: "t1")
        #expect(lifecycle.clientID == "t1")
        lifecycle.receivedDisconnect()
        #expect(lifecycle.clientID == nil, "nothing is handled after DISCONNECT")
        #expect(lifecycle.channelClosed() == ConnectionLifecycle.Ending(clientID: "t1", publishWill: false))
        #expect(lifecycle.channelClosed() == nil, "detached once")
    }

    @Test func aLostConnectionDetachesAndPublishesTheWill() {
        var lifecycle = ConnectionLifecycle()
        lifecycle.accepted(clientID: "t1")
        #expect(lifecycle.channelClosed() == ConnectionLifecycle.Ending(clientID: "t1", publishWill: true))
        #expect(lifecycle.state == .closed)
    }

    @Test func aViolationAfterConnectIsAnAbnormalEnd() {
        var lifecycle = ConnectionLifecycle()
        lifecycle.accepted(clientID: "t1")
        lifecycle.refused()  // a protocol violation closes the channel; the session is still this connection's
        #expect(lifecycle.clientID == "t1")
        #expect(lifecycle.channelClosed()?.publishWill == true)
    }

    @Test func aRefusedOrSilentConnectionHasNothingToDetach() {
        var refused = ConnectionLifecycle()
        refused.refused()
        refused.accepted(clientID: "late")  // a CONNECT after the refusal changes nothing
        #expect(refused.clientID == nil && refused.channelClosed() == nil)
        var silent = ConnectionLifecycle()
        silent.receivedDisconnect()
        #expect(silent.channelClosed() == nil)
    }
}
