import OTAWire
import Testing

@Suite struct TopicsTests {
    let topics = ThingTopics(thingName: "esp32-01")

    @Test func jobsTopicsMatchTheAWSReservedNames() {
        #expect(topics.notifyNext == "$aws/things/esp32-01/jobs/notify-next")
        #expect(topics.describeJob("$next") == "$aws/things/esp32-01/jobs/$next/get")
        #expect(topics.updateJob("AFR_OTA-u1") == "$aws/things/esp32-01/jobs/AFR_OTA-u1/update")
        #expect(topics.startNext == "$aws/things/esp32-01/jobs/start-next")
        #expect(
            ThingTopics.response(to: topics.describeJob("$next"), accepted: true)
                == "$aws/things/esp32-01/jobs/$next/get/accepted")
        #expect(
            ThingTopics.response(to: topics.startNext, accepted: false)
                == "$aws/things/esp32-01/jobs/start-next/rejected")
    }

    @Test func streamTopicsCarryTheFormatAsLastLevel() {
        #expect(topics.streamGet("s1", format: .cbor) == "$aws/things/esp32-01/streams/s1/get/cbor")
        #expect(topics.streamData("s1", format: .json) == "$aws/things/esp32-01/streams/s1/data/json")
        #expect(topics.streamDescribe("s1", format: .cbor) == "$aws/things/esp32-01/streams/s1/describe/cbor")
        #expect(topics.streamRejected("s1", format: .cbor) == "$aws/things/esp32-01/streams/s1/rejected/cbor")
    }

    @Test func everyTopicStaysInsideTheThingsOwnNamespace() {
        let all = [
            topics.notifyNext, topics.notify, topics.getPendingJobs, topics.startNext, topics.describeJob("j"),
            topics.updateJob("j"), topics.streamGet("s", format: .cbor), topics.streamData("s", format: .cbor),
            topics.streamDescription("s", format: .json),
        ]
        for topic in all {
            #expect(topic.hasPrefix(topics.prefix))
        }
    }
}
