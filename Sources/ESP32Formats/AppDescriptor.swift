// esp_app_desc_t: 256 bytes at image offset 0x20 (esp32-formats.md §1.6). secure_version sits at descriptor
// offset 4 (image 0x24) and the ELF SHA-256 at descriptor offset 144 (image 0xB0).

public struct AppDescriptor: Equatable, Sendable {
    public static let magic: UInt32 = 0xABCD_5432
    public static let size = 256
    /// Offset of the descriptor in an app image: just past the 24-byte header and segment 0's 8-byte header.
    public static let imageOffset = 0x20

    /// Anti-rollback version compared against the eFuse (§4).
    public var secureVersion: UInt32
    public var version: String
    public var projectName: String
    public var time: String
    public var date: String
    public var idfVersion: String
    public var appELFSHA256: [UInt8]
    /// v5.4+ fields; zero in older descriptors (the bytes were reserved).
    public var minEfuseBlockRevisionFull: UInt16
    public var maxEfuseBlockRevisionFull: UInt16
    public var mmuPageSizeLog2: UInt8
    /// Bytes this model does not interpret, kept so that a parsed descriptor re-encodes byte for byte:
    /// reserv1 (8 bytes at 8) and the tail from offset 181.
    public var reserved1: [UInt8]
    public var reservedTail: [UInt8]

    public init(
        secureVersion: UInt32 = 0, version: String, projectName: String, time: String = "00:00:00",
        date: String = "Jan  1 2026", idfVersion: String = "v5.5",
        appELFSHA256: [UInt8] = Array(repeating: 0, count: 32)
    ) {
        self.secureVersion = secureVersion
        self.version = version
        self.projectName = projectName
        self.time = time
        self.date = date
        self.idfVersion = idfVersion
        self.appELFSHA256 = appELFSHA256
        self.minEfuseBlockRevisionFull = 0
        self.maxEfuseBlockRevisionFull = 0
        self.mmuPageSizeLog2 = 16
        self.reserved1 = Array(repeating: 0, count: 8)
        self.reservedTail = Array(repeating: 0, count: Self.size - 181)
    }

    public init(bytes: [UInt8]) throws(ImageFormatError) {
        guard bytes.count >= Self.size else {
            throw .truncated(needed: Self.size, available: bytes.count, what: "the app descriptor")
        }
        let magic = bytes.loadLE32(at: 0)
        guard magic == Self.magic else {
            throw .noAppDescriptor(reason: "magic word is \(hex32(magic)), expected \(hex32(Self.magic))")
        }
        secureVersion = bytes.loadLE32(at: 4)
        reserved1 = Array(bytes[8..<16])
        version = decodeFixedString(bytes[16..<48])
        projectName = decodeFixedString(bytes[48..<80])
        time = decodeFixedString(bytes[80..<96])
        date = decodeFixedString(bytes[96..<112])
        idfVersion = decodeFixedString(bytes[112..<144])
        appELFSHA256 = Array(bytes[144..<176])
        minEfuseBlockRevisionFull = UInt16(bytes[176]) | UInt16(bytes[177]) << 8
        maxEfuseBlockRevisionFull = UInt16(bytes[178]) | UInt16(bytes[179]) << 8
        mmuPageSizeLog2 = bytes[180]
        reservedTail = Array(bytes[181..<Self.size])
    }

    /// The 256-byte structure; throws when a string does not fit its C field (with its NUL terminator).
    public func encoded() throws(ImageFormatError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.appendLE32(Self.magic)
        out.appendLE32(secureVersion)
        out.append(contentsOf: (reserved1 + Array(repeating: 0, count: 8)).prefix(8))
        for (field, text, width) in [
            ("version", version, 32), ("project name", projectName, 32), ("time", time, 16), ("date", date, 16),
            ("idf_ver", idfVersion, 32),
        ] {
            guard out.appendFixedString(text, width: width, reserveTerminator: true) else {
                throw .fieldTooLong(field: field, maximum: width - 1)
            }
        }
        guard appELFSHA256.count == 32 else { throw .invalidArgument("app ELF SHA-256 must be 32 bytes") }
        out.append(contentsOf: appELFSHA256)
        out.appendLE16(minEfuseBlockRevisionFull)
        out.appendLE16(maxEfuseBlockRevisionFull)
        out.append(mmuPageSizeLog2)
        out.append(contentsOf: (reservedTail + Array(repeating: 0, count: 75)).prefix(Self.size - 181))
        return out
    }
}
