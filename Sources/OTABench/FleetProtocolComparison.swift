/// `ota bench fleet --protocol http`: the same fleet updated over the HTTPS data plane and, in the same run, over
/// MQTT stream blocks, each beside the raw TLS baseline it measured.
public struct FleetProtocolComparison: Encodable {
    public let mqtt: FleetBenchmark.Result
    public let http: FleetBenchmark.Result

    public init(mqtt: FleetBenchmark.Result, http: FleetBenchmark.Result) {
        self.mqtt = mqtt
        self.http = http
    }

    public static func render(_ c: FleetProtocolComparison) -> String {
        FleetBenchmark.renderSideBySide(
            c.mqtt, c.http, title: "HTTP beside MQTT (same run)",
            ratios: [
                ("goodput HTTP / MQTT", c.http.goodputMiBPerSecond / max(c.mqtt.goodputMiBPerSecond, 1e-9), ""),
                (
                    "service CPU per MiB HTTP / MQTT",
                    c.http.serviceCPUMillisecondsPerMiB / max(c.mqtt.serviceCPUMillisecondsPerMiB, 1e-9), ""
                ),
            ])
    }
}
