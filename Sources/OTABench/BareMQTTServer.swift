import Foundation
import Logging
import MQTT

/// Our MQTT server alone in its own process (`ota bench mqtt-server`), so `ota bench mqtt` can measure its memory
/// the way it measures mosquitto's. Not for production: it lets any client with a certificate from the CA publish
/// anywhere.
public enum BareMQTTServer {
    /// Serves on 127.0.0.1:`port` with `dir`'s server.pem, server.key and ca.pem until the process is killed.
    public static func run(dir: String, port: Int) async throws -> Never {
        var logger = Logger(label: "swiftota.bench.mqtt")
        logger.logLevel = .error
        let identity = try MQTTServerConfiguration.TLSIdentity(
            certificateChainPEM: dir + "/server.pem", privateKeyPEM: dir + "/server.key", clientCAPEM: dir + "/ca.pem")
        let server = MQTTServer(
            configuration: MQTTServerConfiguration(
                host: "127.0.0.1", port: port, tls: identity, maximumQueuedMessages: 100_000),
            authorizer: AllowAllAuthorizer(), logger: logger)
        try await server.start()
        FileHandle.standardOutput.write(Data("ready \(port)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
