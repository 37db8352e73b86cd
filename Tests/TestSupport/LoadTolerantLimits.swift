import MQTT

extension MQTTAdmissionLimits {
    /// The service's deadlines are for real networks; a test suite that starts hundreds of tests at once on two
    /// cores can delay a loopback handshake past 10 s. Tests of other things use these; the deadline tests set
    /// their own.
    public static let underTestLoad = MQTTAdmissionLimits(
        tlsHandshakeTimeout: .seconds(120), connectTimeout: .seconds(120))
}
