// The download the agent persists through the platform: job, file size and the receive bitmap. With it a
// download resumes where it stopped after a reboot or power loss, which the FreeRTOS agent cannot do
// (aws-ota-wire.md §5.4 item 7). Encoded by hand (no Codable in Embedded Swift), with a magic and a checksum.
//
// The record says nothing of the data protocol, on purpose: a block is the same 4 KiB of the file whether it came
// over MQTT or HTTP, and an HTTP URL would have expired by the next boot anyway. After a reboot the agent asks for
// its job document, chooses the protocol again and continues with the fresh stream name or URL and this bitmap, so
// format version 1 serves both protocols and records written before HTTP existed load unchanged.
import OTAWire

public struct DownloadRecord: Equatable, Sendable {
    public static let magic: [UInt8] = [0x53, 0x4F, 0x54, 0x41]  // "SOTA"
    public static let formatVersion: UInt8 = 1

    /// The job id's bytes, as the job message carried them.
    public var jobID: [UInt8]
    public var fileSize: UInt32
    public var bitmap: BlockBitmap

    public init(jobID: [UInt8], fileSize: UInt32, bitmap: BlockBitmap) {
        self.jobID = jobID
        self.fileSize = fileSize
        self.bitmap = bitmap
    }

    public var encoded: [UInt8] {
        var out = Self.magic
        out.append(Self.formatVersion)
        out.append(UInt8(truncatingIfNeeded: jobID.count))
        out += jobID
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: fileSize >> UInt32(shift))) }
        out += bitmap.bytes
        out.append(Self.checksum(out))
        return out
    }

    /// nil for anything that is not a record this version wrote whole.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 11, Array(bytes[0..<4]) == Self.magic, bytes[4] == Self.formatVersion,
            Self.checksum(Array(bytes.dropLast())) == bytes[bytes.count - 1]
        else { return nil }
        let idLength = Int(bytes[5])
        guard bytes.count >= 6 + idLength + 4 + 1 else { return nil }
        let id = Array(bytes[6..<6 + idLength])
        var size: UInt32 = 0
        for index in 0..<4 { size |= UInt32(bytes[6 + idLength + index]) << UInt32(index * 8) }
        let bitmapStart = 6 + idLength + 4
        let blockCount = BlockBitmap.blockCount(fileSize: Int(size), blockSize: AgentLimits.blockSize)
        guard let bitmap = BlockBitmap(bytes: Array(bytes[bitmapStart..<bytes.count - 1]), blockCount: blockCount)
        else { return nil }
        jobID = id
        fileSize = size
        self.bitmap = bitmap
    }

    /// A byte sum with rotation: catches a torn or foreign record; the platform's store guards the rest.
    static func checksum(_ bytes: [UInt8]) -> UInt8 {
        var value: UInt8 = 0x5A
        for byte in bytes { value = (value << 1 | value >> 7) ^ byte }
        return value
    }
}
