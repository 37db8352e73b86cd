import OTAAgent
import OTAWire

/// A connection that can also download over HTTP: records MQTT traffic like `RecordingConnection` and the range
/// requests the agent hands it, which the tests answer with `handleHTTPResponse`.
struct HTTPConnection: OTAConnection {
    var mqtt = RecordingConnection()
    var dataProtocols: OTADataProtocols = [.mqtt, .http]
    var requests: [HTTPRangeRequest] = []

    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8) {
        mqtt.publish(topic: topic, payload: payload, qos: qos)
    }
    mutating func subscribe(_ filter: [UInt8], qos: UInt8) { mqtt.subscribe(filter, qos: qos) }
    mutating func unsubscribe(_ filter: [UInt8]) { mqtt.unsubscribe(filter) }
    mutating func getRange(_ request: HTTPRangeRequest) { requests.append(request) }
}

extension Service {
    /// A job whose document lists `protocols` (e.g. `["HTTP"]` or `["MQTT","HTTP"]`), with a stream name and a
    /// data URL, as the service sends when an update allows HTTP.
    static func httpJob(
        _ jobID: String = "AFR_OTA-u1", size: Int, protocols: String = #"["HTTP"]"#,
        url: String = "https://ota.example:8443/data/u1?token=1", signature: [UInt8] = [0x30, 0x44]
    ) -> [UInt8] {
        let document =
            #"{"afr_ota":{"protocols":\#(protocols),"streamname":"AFR_OTA-s1","files":[{"filepath":"/","#
            + #""filesize":\#(size),"fileid":0,"certfile":"Code Verify Key","update_data_url":"\#(url)","#
            + #""auth_scheme":"aws.s3.presigned","sig-sha256-ecdsa":"\#(Base64.encode(signature))"}]}}"#
        return Array(
            (#"{"clientToken":"1:dev","timestamp":1,"execution":{"jobId":"\#(jobID)","thingName":"dev","#
                + #""status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"#
                + #""executionNumber":1,"jobDocument":\#(document)}}"#).utf8)
    }
}
