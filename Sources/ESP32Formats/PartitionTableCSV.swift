// Partition tables in gen_esp32part's CSV dialect: `Name, Type, SubType, Offset, Size, Flags`, `#` comments,
// blank offsets filled in order after the table sector, sizes with K/M suffixes, negative sizes meaning
// "up to this address", flags joined by ':' (esp32-formats.md §2.1).

extension PartitionTable {
    /// Where the primary bootloader starts on the ESP32 (its size is the gap up to the table).
    public static let esp32BootloaderOffset: UInt32 = 0x1000

    /// Parses, fills in offsets and verifies — the same table gen_esp32part would write, or the first error
    /// with its line number.
    public init(
        csv text: String, tableOffset: UInt32 = defaultOffset, secureBoot: SecureBoot? = nil
    ) throws(PartitionTableError) {
        var rows: [(line: Int, row: CSVRow)] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCSVWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            do throws(CSVMessage) {
                rows.append((index + 1, try CSVRow(line, tableOffset: tableOffset)))
            } catch {
                throw .csv(line: index + 1, message: error.text)
            }
        }
        guard !rows.isEmpty else { throw .empty }
        var partitions: [Partition] = []
        var lastEnd = UInt64(tableOffset) + UInt64(Self.sectorSize)
        for (line, row) in rows {
            var offset = row.offset
            if !row.isPrimaryBootStructure {
                if let fixed = offset, fixed < lastEnd {
                    let hint =
                        partitions.isEmpty
                        ? "the partition table occupies the sector at \(hex(tableOffset)); use \(hex(lastEnd)) or higher"
                        : "the previous partition ends at \(hex(lastEnd))"
                    throw .csv(line: line, message: "partitions overlap: offset \(hex(fixed)) is set but \(hint)")
                }
                if offset == nil {
                    let alignment = UInt64(row.type.offsetAlignment)
                    offset = (lastEnd + alignment - 1) / alignment * alignment
                }
            }
            guard let start = offset, start <= UInt64(UInt32.max) else {
                throw .csv(line: line, message: "offset does not fit in 32 bits")
            }
            let size = row.size < 0 ? -row.size - Int64(start) : row.size
            guard size > 0, size <= Int64(UInt32.max) else {
                throw .csv(line: line, message: "size \(size) is not a positive 32-bit value")
            }
            if !row.isPrimaryBootStructure { lastEnd = start + UInt64(size) }
            partitions.append(
                Partition(
                    name: row.name, type: row.type, subtype: row.subtype, offset: UInt32(start), size: UInt32(size),
                    encrypted: row.encrypted, readonly: row.readonly))
        }
        let table = PartitionTable(partitions: partitions)
        try table.verify(tableOffset: tableOffset, secureBoot: secureBoot, lines: rows.map(\.line))
        self = table
    }

    /// The table as CSV, the way `gen_esp32part.py table.bin` prints it: keyword names, hex offsets,
    /// sizes in M or K when they divide evenly.
    public func csv() -> String {
        var lines = ["# ESP-IDF Partition Table", "# Name, Type, SubType, Offset, Size, Flags"]
        for partition in partitions {
            let flags = [partition.encrypted ? "encrypted" : nil, partition.readonly ? "readonly" : nil]
                .compactMap { $0 }.joined(separator: ":")
            let size: String
            if partition.size % 0x100000 == 0 {
                size = "\(partition.size / 0x100000)M"
            } else if partition.size % 0x400 == 0 {
                size = "\(partition.size / 0x400)K"
            } else {
                size = hex(partition.size)
            }
            let type = partition.type.name ?? "\(partition.type.rawValue)"
            let subtype = partition.type.subtypeName(partition.subtype) ?? "\(partition.subtype)"
            lines.append([partition.name, type, subtype, hex(partition.offset), size, flags].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A CSV problem, before the line number is attached.
struct CSVMessage: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// One parsed CSV line before offsets are resolved.
struct CSVRow {
    let name: String
    let type: PartitionType
    let subtype: UInt8
    let offset: UInt64?
    /// Negative: "ends at this address".
    let size: Int64
    let encrypted: Bool
    let readonly: Bool

    var isPrimaryBootStructure: Bool { (type == .bootloader || type == .partitionTable) && subtype == 0 }

    init(_ line: Substring, tableOffset: UInt32) throws(CSVMessage) {
        var fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCSVWhitespace() }
        guard fields.count <= 6 else {
            throw CSVMessage(
                "expected at most 6 fields (Name, Type, SubType, Offset, Size, Flags), found \(fields.count)")
        }
        fields += Array(repeating: "", count: 6 - fields.count)
        name = String(fields[0])
        guard !fields[1].isEmpty else { throw CSVMessage("field 'Type' can't be left empty") }
        let typeValue = try parseCSVInteger(fields[1], keywords: PartitionType.keywords, field: "Type")
        guard (0...0xFE).contains(typeValue) else { throw CSVMessage("type \(typeValue) is outside 0x00-0xfe") }
        type = PartitionType(rawValue: UInt8(typeValue))
        if fields[2].isEmpty {
            guard type != .app else { throw CSVMessage("an app partition cannot have an empty SubType") }
            subtype = PartitionDataSubtype.undefined
        } else {
            let value = try parseCSVInteger(fields[2], keywords: type.subtypeKeywords, field: "SubType")
            guard (0...0xFF).contains(value) else { throw CSVMessage("subtype \(value) is outside 0x00-0xff") }
            subtype = UInt8(value)
        }
        let bootloader = PartitionTable.esp32BootloaderOffset
        switch (type, subtype) {
        case (.bootloader, 0):
            offset = UInt64(bootloader)
            size = Int64(tableOffset) - Int64(bootloader)
        case (.bootloader, 2):
            throw CSVMessage("a recovery bootloader needs its offset, which ESP32 builds do not define")
        case (.partitionTable, _):
            offset = subtype == 0 ? UInt64(tableOffset) : try Self.optionalAddress(fields[3])
            size = Int64(PartitionTable.sectorSize)
        default:
            offset = try Self.optionalAddress(fields[3])
            guard !fields[4].isEmpty else { throw CSVMessage("field 'Size' can't be empty") }
            size = try parseCSVInteger(fields[4], keywords: [], field: "Size")
        }
        var encrypted = false
        var readonly = false
        for flag in fields[5].split(separator: ":").map({ $0.trimmingCSVWhitespace() }) where !flag.isEmpty {
            switch flag {
            case "encrypted": encrypted = true
            case "readonly": readonly = true
            default: throw CSVMessage("unknown flag '\(flag)'; known flags: encrypted, readonly")
            }
        }
        self.encrypted = encrypted
        self.readonly = readonly
    }

    static func optionalAddress(_ field: Substring) throws(CSVMessage) -> UInt64? {
        guard !field.isEmpty else { return nil }
        let value = try parseCSVInteger(field, keywords: [], field: "Offset")
        guard value >= 0 else { throw CSVMessage("offset \(value) is negative") }
        return UInt64(value)
    }
}

/// gen_esp32part's integer syntax: decimal, 0x/0o/0b prefixes, K and M suffixes (×1024, ×1024²), or a keyword.
func parseCSVInteger(_ text: Substring, keywords: [(String, UInt8)], field: String) throws(CSVMessage) -> Int64 {
    let lower = text.lowercased()
    for (suffix, multiplier) in [("k", Int64(1024)), ("m", Int64(1024 * 1024))] where lower.hasSuffix(suffix) {
        if let base = parsePlainInteger(lower.dropLast()) {
            let (product, overflow) = base.multipliedReportingOverflow(by: multiplier)
            if !overflow { return product }
        }
    }
    if let value = parsePlainInteger(Substring(lower)) { return value }
    if let keyword = keywords.first(where: { $0.0 == lower }) { return Int64(keyword.1) }
    if keywords.isEmpty { throw CSVMessage("invalid \(field) value '\(text)'") }
    throw CSVMessage(
        "invalid \(field) value '\(text)'; known keywords: " + keywords.map(\.0).joined(separator: ", "))
}

private func parsePlainInteger(_ text: Substring) -> Int64? {
    var digits = text
    var negative = false
    if digits.hasPrefix("-") {
        negative = true
        digits = digits.dropFirst()
    } else if digits.hasPrefix("+") {
        digits = digits.dropFirst()
    }
    var radix = 10
    for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
        radix = base
        digits = digits.dropFirst(2)
    }
    digits = Substring(digits.filter { $0 != "_" })
    guard !digits.isEmpty, let magnitude = Int64(digits, radix: radix) else { return nil }
    // Python's int(x, 0) refuses decimal literals with leading zeros ("010").
    if radix == 10, digits.count > 1, digits.hasPrefix("0") { return nil }
    return negative ? -magnitude : magnitude
}

extension StringProtocol {
    /// Strips spaces, tabs and carriage returns (CSV files written on Windows end lines with \r\n).
    func trimmingCSVWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return Substring(self[first...last])
    }
}
