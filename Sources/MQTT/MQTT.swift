// MQTT 3.1.1 packet codec, async client and server sessions over SwiftNIO and NIOSSL.
// Knows nothing about OTA: the device gateway in OTAService layers the Jobs and Streams APIs on top.
// The codec, client and server arrive with the MQTT issue; this file fixes the target's place in the layout.

/// Namespace for MQTT protocol constants shared by the codec, the client and the server.
public enum MQTTProtocol {
    /// The protocol name carried in CONNECT (MQTT 3.1.1 §3.1.2.1).
    public static let name = "MQTT"
    /// Protocol level 4 = MQTT 3.1.1 (§3.1.2.2).
    public static let level: UInt8 = 4
}
