import CoreMetrics

// What the MQTT server counts as it runs, through swift-metrics: the owner picks the backend by the factory it
// passes (the service's is its Prometheus registry; the default counts nothing). Incremented on event loops, per
// packet, so each is one counter handler kept for the server's lifetime, never looked up by name per packet.

public struct MQTTTrafficMetrics: Sendable {
    let packetsReceived: Counter
    let bytesReceived: Counter
    let packetsSent: Counter
    let bytesSent: Counter
    /// TLS handshakes that failed before a CONNECT: a refused or unreadable certificate, a protocol error.
    let tlsHandshakeFailures: Counter

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance, prefix: String = "swiftota_mqtt") {
        packetsReceived = Counter(label: prefix + "_received_packets_total", factory: factory)
        bytesReceived = Counter(label: prefix + "_received_bytes_total", factory: factory)
        packetsSent = Counter(label: prefix + "_sent_packets_total", factory: factory)
        bytesSent = Counter(label: prefix + "_sent_bytes_total", factory: factory)
        tlsHandshakeFailures = Counter(label: prefix + "_tls_handshake_failures_total", factory: factory)
    }
}
