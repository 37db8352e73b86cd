// The topics one device's agent uses (aws-ota-wire.md §2), as bytes: `$aws/things/<thing>/` once, then the
// Jobs and Streams suffixes. The three topics job messages arrive on are built once and compared byte by byte.

struct AgentTopics {
    /// `$aws/things/<thing>/`
    let prefix: [UInt8]
    let notifyNext: [UInt8]
    let describeNext: [UInt8]
    let describeNextAccepted: [UInt8]
    let startNextAccepted: [UInt8]

    init(thingName: [UInt8]) {
        var prefix = [UInt8](ascii: "$aws/things/")
        prefix += thingName
        prefix.append(0x2F)
        self.prefix = prefix
        var jobs = prefix
        jobs.append(ascii: "jobs/")
        notifyNext = jobs + [UInt8](ascii: "notify-next")
        describeNext = jobs + [UInt8](ascii: "$next/get")
        describeNextAccepted = describeNext + [UInt8](ascii: "/accepted")
        startNextAccepted = jobs + [UInt8](ascii: "start-next/accepted")
    }

    /// UpdateJobExecution: `jobs/<jobID>/update`.
    func updateJob(_ jobID: [UInt8]) -> [UInt8] {
        var topic = prefix
        topic.append(ascii: "jobs/")
        topic += jobID
        topic.append(ascii: "/update")
        return topic
    }

    /// `streams/<stream>/get/cbor` (GetStream) or `…/data/cbor` (the blocks).
    func stream(_ stream: [UInt8], _ suffix: StaticString) -> [UInt8] {
        var topic = prefix
        topic.append(ascii: "streams/")
        topic += stream
        topic.append(ascii: suffix)
        return topic
    }
}
