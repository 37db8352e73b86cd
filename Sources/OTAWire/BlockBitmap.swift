// The receive bitmap of a stream request (aws-ota-wire.md §5.1): bit set = block still needed; block k is bit
// `k % 8` (LSB first) of byte `k / 8`; padding bits past the last block are zero. The agent keeps one of these
// per download (128 bytes tracks 1024 blocks = 4 MiB at 4 KiB), and persists it so a download survives a reboot.

public struct BlockBitmap: Equatable, Sendable {
    public private(set) var bytes: [UInt8]
    public let blockCount: Int

    /// Every block needed.
    public init(blockCount: Int) {
        precondition(blockCount >= 0)
        self.blockCount = blockCount
        bytes = [UInt8](repeating: 0xFF, count: (blockCount + 7) / 8)
        let spare = bytes.count * 8 - blockCount
        if spare > 0 { bytes[bytes.count - 1] = 0xFF >> UInt8(spare) }
    }

    /// A bitmap read back from storage or the wire; nil when the size does not match or padding bits are set.
    public init?(bytes: [UInt8], blockCount: Int) {
        guard blockCount >= 0, bytes.count == (blockCount + 7) / 8 else { return nil }
        let spare = bytes.count * 8 - blockCount
        if spare > 0, bytes[bytes.count - 1] & ~(0xFF >> UInt8(spare)) != 0 { return nil }
        self.bytes = bytes
        self.blockCount = blockCount
    }

    public func isNeeded(_ block: Int) -> Bool {
        guard block >= 0 && block < blockCount else { return false }
        return bytes[block >> 3] & (1 << UInt8(block & 7)) != 0
    }

    /// Marks `block` received; false when it was already received or out of range (a duplicate to ignore).
    @discardableResult
    public mutating func markReceived(_ block: Int) -> Bool {
        guard isNeeded(block) else { return false }
        bytes[block >> 3] &= ~(1 << UInt8(block & 7))
        return true
    }

    public var neededCount: Int {
        var count = 0
        for byte in bytes { count += byte.nonzeroBitCount }
        return count
    }

    public var receivedCount: Int { blockCount - neededCount }
    public var isComplete: Bool { neededCount == 0 }

    /// Number of blocks of `blockSize` bytes in a file of `fileSize` bytes.
    public static func blockCount(fileSize: Int, blockSize: Int) -> Int {
        (fileSize + blockSize - 1) / blockSize
    }
}
