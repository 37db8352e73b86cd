import MQTT

/// Connections closed and messages refused by the service's limits (README "Limits"), since start.
public struct ProtectionCountsView: Codable, Sendable, Equatable {
    /// MQTT connections closed before their CONNECT was accepted, by reason.
    public var mqttTLSHandshakeTimeouts: Int
    public var mqttConnectTimeouts: Int
    public var mqttUnauthenticatedLimit: Int
    public var mqttPerAddressLimit: Int
    /// API connections closed by the TLS handshake and request deadlines.
    public var apiTLSHandshakeTimeouts: Int
    public var apiRequestTimeouts: Int
    /// Connected clients closed for falling a whole message queue behind (unacknowledged QoS 1).
    public var queueOverflows: Int
    /// Connected clients closed for not reading what they were sent.
    public var slowConsumers: Int
    /// Retained messages not kept because a limit was reached.
    public var retainedRefused: Int
    /// Times a connected client sent faster than its inbound rate and was not read for a while.
    public var pacedClients: Int

    public init(
        mqtt: MQTTShedCounts, api: APIShedCounts, queueOverflows: Int, slowConsumers: Int, retainedRefused: Int,
        pacedClients: Int
    ) {
        mqttTLSHandshakeTimeouts = mqtt.tlsHandshakeTimeout
        mqttConnectTimeouts = mqtt.connectTimeout
        mqttUnauthenticatedLimit = mqtt.unauthenticatedLimit
        mqttPerAddressLimit = mqtt.perAddressLimit
        apiTLSHandshakeTimeouts = api.tlsHandshakeTimeout
        apiRequestTimeouts = api.requestTimeout
        self.queueOverflows = queueOverflows
        self.slowConsumers = slowConsumers
        self.retainedRefused = retainedRefused
        self.pacedClients = pacedClients
    }
}
