import ArgumentParser
import MQTT
import OTAService

/// `ota serve`'s limits on connections that have not authenticated yet (device port) and on slow API clients.
/// Durations are in seconds (fractions allowed); the defaults are `MQTTAdmissionLimits`' and `APIConnectionLimits`'.
struct ConnectionLimitOptions: ParsableArguments {
    @Option(help: "Seconds a device connection has to finish its TLS handshake.")
    var mqttHandshakeTimeout = Self.seconds(MQTTAdmissionLimits().tlsHandshakeTimeout)
    @Option(help: "Seconds a device has, after its TLS handshake, to send a CONNECT that is accepted.")
    var mqttConnectTimeout = Self.seconds(MQTTAdmissionLimits().connectTimeout)
    @Option(help: "Device connections that may be unauthenticated at once; more are closed at accept.")
    var mqttMaxUnauthenticated = MQTTAdmissionLimits().maximumUnauthenticated
    @Option(help: "The same, per source address.")
    var mqttMaxUnauthenticatedPerAddress = MQTTAdmissionLimits().maximumUnauthenticatedPerAddress
    @Option(help: "Messages a second one connected device may send, sustained (bursts of twice that).")
    var mqttClientMessagesPerSecond = InboundRateLimits.device.packetsPerSecond
    @Option(help: "Bytes a second one connected device may send, sustained (bursts of twice that).")
    var mqttClientBytesPerSecond = InboundRateLimits.device.bytesPerSecond
    @Option(help: "Seconds an API connection has to finish its TLS handshake.")
    var apiHandshakeTimeout = Self.seconds(APIConnectionLimits().tlsHandshakeTimeout)
    @Option(
        help: "Seconds an API connection may stay idle: waiting for a complete request head, or between body parts.")
    var apiIdleTimeout = Self.seconds(APIConnectionLimits().idleTimeout)
    @Option(help: "Seconds an API request has from its head to the end of its body.")
    var apiRequestTimeout = Self.seconds(APIConnectionLimits().requestTimeout)

    func validate() throws {
        let durations = [
            ("--mqtt-handshake-timeout", mqttHandshakeTimeout), ("--mqtt-connect-timeout", mqttConnectTimeout),
            ("--api-handshake-timeout", apiHandshakeTimeout), ("--api-idle-timeout", apiIdleTimeout),
            ("--api-request-timeout", apiRequestTimeout),
        ]
        for (flag, seconds) in durations where !(seconds > 0 && seconds.isFinite) {
            throw ValidationError("\(flag) must be a positive number of seconds, not \(seconds)")
        }
        for (flag, rate) in [
            ("--mqtt-client-messages-per-second", mqttClientMessagesPerSecond),
            ("--mqtt-client-bytes-per-second", mqttClientBytesPerSecond),
        ] where !(rate >= 1 && rate.isFinite) {
            throw ValidationError("\(flag) must be at least 1, not \(rate)")
        }
        for (flag, count) in [
            ("--mqtt-max-unauthenticated", mqttMaxUnauthenticated),
            ("--mqtt-max-unauthenticated-per-address", mqttMaxUnauthenticatedPerAddress),
        ] where count < 1 {
            throw ValidationError("\(flag) must be at least 1, not \(count)")
        }
    }

    func apply(to configuration: inout OTAServerConfiguration) {
        configuration.mqttAdmission.tlsHandshakeTimeout = .seconds(mqttHandshakeTimeout)
        configuration.mqttAdmission.connectTimeout = .seconds(mqttConnectTimeout)
        configuration.mqttAdmission.maximumUnauthenticated = mqttMaxUnauthenticated
        configuration.mqttAdmission.maximumUnauthenticatedPerAddress = mqttMaxUnauthenticatedPerAddress
        configuration.mqttInboundRate = InboundRateLimits(
            packetsPerSecond: mqttClientMessagesPerSecond, packetBurst: 2 * mqttClientMessagesPerSecond,
            bytesPerSecond: mqttClientBytesPerSecond, byteBurst: 2 * mqttClientBytesPerSecond)
        configuration.apiLimits.tlsHandshakeTimeout = .seconds(apiHandshakeTimeout)
        configuration.apiLimits.idleTimeout = .seconds(apiIdleTimeout)
        configuration.apiLimits.requestTimeout = .seconds(apiRequestTimeout)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
