import OTAAgent
import Testing

@Suite struct ImageStateTests {
    // The raw values are the FreeRTOS OtaImageState_t values; a platform port stores them, so they must not drift.
    @Test func rawValuesMatchTheFreeRTOSAgent() {
        #expect(OTAImageState.testing.rawValue == 1)
        #expect(OTAImageState.accepted.rawValue == 2)
        #expect(OTAImageState.rejected.rawValue == 3)
        #expect(OTAImageState.aborted.rawValue == 4)
    }

    @Test func topicsAreScopedToTheProvisionedThing() {
        #expect(agentTopics(thingName: "t1").notifyNext == "$aws/things/t1/jobs/notify-next")
    }
}
