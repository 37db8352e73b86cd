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
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        let goodput = c.http.goodputMiBPerSecond / max(c.mqtt.goodputMiBPerSecond, 1e-9)
        let cpu = c.http.serviceCPUMillisecondsPerMiB / max(c.mqtt.serviceCPUMillisecondsPerMiB, 1e-9)
        return [
            FleetBenchmark.render(c.mqtt), "", FleetBenchmark.render(c.http), "",
            "HTTP beside MQTT (same run)",
            "  goodput HTTP / MQTT               \(f(goodput))x",
            "  service CPU per MiB HTTP / MQTT   \(f(cpu))x",
        ].joined(separator: "\n")
    }
}
