import OTAService
import OTAWire
import Testing

// The reserved request topics a device publishes (aws-ota-wire.md §2.2), parsed for thing `t-1`: what the gateway
// answers, what it drops as reserved, and what it leaves to routing.
struct DeviceRequestTopicTests {
    static let cases: [(String, DeviceRequest)] = [
        ("$aws/things/t-1/jobs/get", .getPendingJobs),
        ("$aws/things/t-1/jobs/start-next", .startNext),
        ("$aws/things/t-1/jobs/$next/get", .describeJob(jobID: "$next")),
        ("$aws/things/t-1/jobs/AFR_OTA-u1/get", .describeJob(jobID: "AFR_OTA-u1")),
        ("$aws/things/t-1/jobs/AFR_OTA-u1/update", .updateJob(jobID: "AFR_OTA-u1")),
        ("$aws/things/t-1/jobs//update", .updateJob(jobID: "")),
        ("$aws/things/t-1/streams/AFR_OTA-s1/get/cbor", .streamGet(streamID: "AFR_OTA-s1", format: .cbor)),
        ("$aws/things/t-1/streams/AFR_OTA-s1/get/json", .streamGet(streamID: "AFR_OTA-s1", format: .json)),
        (
            "$aws/things/t-1/streams/AFR_OTA-s1/describe/cbor",
            .streamDescribe(streamID: "AFR_OTA-s1", format: .cbor)
        ),
        ("$aws/things/t-1/streams//get/cbor", .reservedNonRequest),
        ("$aws/things/t-1/streams/s1/get/xml", .reservedNonRequest),
        ("$aws/things/t-1/streams/s1/put/cbor", .reservedNonRequest),
        ("$aws/things/t-1/streams/s1/get", .reservedNonRequest),
        ("$aws/things/t-1/streams/s1/get/cbor/extra", .reservedNonRequest),
        ("$aws/things/t-1/jobs/get/accepted", .reservedNonRequest),
        ("$aws/things/t-1/jobs/u1/get/accepted", .reservedNonRequest),
        ("$aws/things/t-1/jobs", .reservedNonRequest),
        ("$aws/things/t-1/jobs/", .reservedNonRequest),
        ("$aws/things/t-1/shadow/update", .other),
        ("$aws/things/t-1", .other),
        ("$aws/things/t-10/jobs/get", .other),
        ("$aws/things/t-/jobs/get", .other),
        ("$aws/things/other/jobs/get", .other),
        ("$aws/things/T-1/jobs/get", .other),
        ("things/t-1/jobs/get", .other),
        ("", .other),
    ]

    @Test(arguments: cases) func topic(_ topic: String, _ expected: DeviceRequest) {
        #expect(DeviceRequest(topic: topic, thing: "t-1") == expected)
    }
}
