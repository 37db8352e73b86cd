// How fast one connected client may make the server work. A device needs a few messages a second (Jobs requests,
// block requests, progress); a compromised one could send as fast as TLS goes, and every message costs the server
// decryption, parsing and routing. Past the rate the server stops reading the client (TCP holds the rest back)
// until the debt is paid: the client is slowed, not refused, and cannot take more than its share.

public struct InboundRateLimits: Sendable, Equatable {
    /// Packets a second, sustained, and how many may come at once above that.
    public var packetsPerSecond: Double
    public var packetBurst: Double
    /// Bytes a second (PUBLISH topic and payload, a few bytes for other packets), sustained, and the burst.
    public var bytesPerSecond: Double
    public var byteBurst: Double

    /// AWS IoT Core's per-connection limits (100 publishes a second, 512 KiB/s), with bursts of twice that.
    public static let device = InboundRateLimits(
        packetsPerSecond: 100, packetBurst: 200, bytesPerSecond: 512 * 1024, byteBurst: 1024 * 1024)

    public init(packetsPerSecond: Double, packetBurst: Double, bytesPerSecond: Double, byteBurst: Double) {
        self.packetsPerSecond = packetsPerSecond
        self.packetBurst = packetBurst
        self.bytesPerSecond = bytesPerSecond
        self.byteBurst = byteBurst
    }
}

/// One connection's two buckets.
struct InboundPacer {
    private var packets: TokenBucket
    private var bytes: TokenBucket

    init(_ limits: InboundRateLimits) {
        packets = TokenBucket(rate: limits.packetsPerSecond, burst: limits.packetBurst)
        bytes = TokenBucket(rate: limits.bytesPerSecond, burst: limits.byteBurst)
    }

    /// Charges one packet: how long to stop reading (zero while within the limits).
    mutating func charge(_ packet: MQTTPacket) -> Duration {
        let size: Int
        if case .publish(let publish) = packet {
            size = publish.topic.utf8.count + publish.payload.count + 4
        } else {
            size = 4
        }
        let now = ContinuousClock.now
        return max(packets.take(now: now), bytes.take(Double(size), now: now))
    }
}
