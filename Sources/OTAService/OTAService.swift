// The OTA service: registry, files, updates and jobs, the device gateway (Jobs and Streams over MQTT),
// storage and the management API. It knows devices only through the wire: it never imports ESP32Simulator.

/// Default ports of `ota serve` (docs/ARCHITECTURE.md, "Runtime shape").
public enum OTAServiceDefaults {
    public static let mqttTLSPort = 8883
    public static let apiHTTPSPort = 8443
}
