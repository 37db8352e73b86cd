// Every way a partition table, in CSV or binary form, can be wrong.

public enum PartitionTableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A CSV line that cannot be read; `line` counts from 1 like an editor does.
    case csv(line: Int, message: String)
    /// A partition that breaks a rule; `line` is its CSV line when the table came from CSV.
    case invalidPartition(name: String, line: Int?, message: String)
    case overlap(name: String, offset: UInt32, otherName: String, otherOffset: UInt32, otherEnd: UInt64)
    case belowTable(name: String, offset: UInt32, firstFree: UInt32)
    case duplicateName(String)
    case multipleOTAData(subtype: UInt8)
    case otaDataSize(name: String, size: UInt32)
    case tooLarge(bytes: Int)
    case doesNotFitFlash(end: UInt64, flashSize: Int)
    case truncatedEntry(index: Int, bytes: Int)
    case badMagic(index: Int, magic: [UInt8])
    /// A name that is not UTF-8: it could not be shown, or written back, as it is.
    case nameNotUTF8(index: Int, name: [UInt8])
    case md5Mismatch(computed: String, stored: String)
    case missingEndMarker
    case empty

    public var description: String {
        switch self {
        case .csv(let line, let message):
            return "CSV error at line \(line): \(message)"
        case .invalidPartition(let name, let line, let message):
            return "partition '\(name)'" + (line.map { " (line \($0))" } ?? "") + " is invalid: \(message)"
        case .overlap(let name, let offset, let otherName, let otherOffset, let otherEnd):
            return "partition '\(name)' at \(hex(offset)) overlaps '\(otherName)' at \(hex(otherOffset))-"
                + "\(hex(otherEnd - 1)); move it to \(hex(otherEnd)) or later"
        case .belowTable(let name, let offset, let firstFree):
            return "partition '\(name)' at \(hex(offset)) lies below \(hex(firstFree)), where the partition "
                + "table sector ends; use an offset of \(hex(firstFree)) or higher"
        case .duplicateName(let name):
            return "partition name '\(name)' is used twice; names must be unique"
        case .multipleOTAData(let subtype):
            return "more than one data partition with subtype \(hex(subtype)) (otadata); only one is allowed"
        case .otaDataSize(let name, let size):
            return "otadata partition '\(name)' is \(hex(size)) bytes; it must be exactly 0x2000 (two sectors)"
        case .tooLarge(let bytes):
            return "binary partition table would be \(bytes) bytes; it must stay below 0xc00 (at most 94 partitions)"
        case .doesNotFitFlash(let end, let flashSize):
            return "partitions end at \(hex(end)), past the end of the \(flashSize / (1024 * 1024)) MB flash"
        case .truncatedEntry(let index, let bytes):
            return "entry \(index) is truncated: \(bytes) bytes, an entry is 32"
        case .badMagic(let index, let magic):
            return "entry \(index) has magic \(hexString(magic)); expected aa50 (partition), ebeb (MD5) or ffff (end)"
        case .nameNotUTF8(let index, let name):
            return "entry \(index) has a name that is not UTF-8 (\(hexString(name))); gen_esp32part refuses it too"
        case .md5Mismatch(let computed, let stored):
            return "MD5 entry does not match the table: stored \(stored), computed \(computed); the table is corrupt"
        case .missingEndMarker:
            return "the table has no end marker (an entry of 0xff bytes) within 0xc00 bytes"
        case .empty:
            return "the table has no partitions"
        }
    }
}
