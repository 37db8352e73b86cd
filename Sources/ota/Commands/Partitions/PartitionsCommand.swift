import ArgumentParser
import CodeSigning
import ESP32Formats

struct PartitionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions", abstract: "Build and show ESP-IDF partition tables.",
        subcommands: [PartitionsBuildCommand.self, PartitionsShowCommand.self])
}

/// The table as `ota partitions` prints it, in both forms.
struct PartitionTableReport: Encodable {
    struct Entry: Encodable {
        let name: String
        let type: String
        let subtype: String
        let offset: String
        let size: Int
        let encrypted: Bool
        let readonly: Bool
    }

    let partitions: [Entry]
    let md5: String?

    init(_ table: PartitionTable, md5: String?) {
        partitions = table.partitions.map {
            Entry(
                name: $0.name, type: $0.type.description, subtype: $0.subtypeName, offset: hex($0.offset),
                size: Int($0.size), encrypted: $0.encrypted, readonly: $0.readonly)
        }
        self.md5 = md5
    }

    var text: String {
        let header = ["Name", "Type", "SubType", "Offset", "Size", "Flags"]
        let rows = partitions.map { entry in
            [
                entry.name, entry.type, entry.subtype, entry.offset, "\(hex(entry.size)) (\(humanSize(entry.size)))",
                [entry.encrypted ? "encrypted" : nil, entry.readonly ? "readonly" : nil].compactMap { $0 }
                    .joined(separator: ":"),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let render: ([String]) -> String = { cells in
            zip(cells, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .trimmingTrailingSpaces()
        }
        var lines = [render(header)] + rows.map(render)
        if let md5 { lines.append("MD5: \(md5)") }
        return lines.joined(separator: "\n")
    }

    private func humanSize(_ bytes: Int) -> String {
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20)M" }
        if bytes % (1 << 10) == 0 { return "\(bytes >> 10)K" }
        return "\(bytes)"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

struct PartitionsBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Convert a partition CSV to the binary table, exactly as ESP-IDF's gen_esp32part does.")

    @Argument(help: "The partition table CSV (Name, Type, SubType, Offset, Size, Flags).")
    var csv: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the binary table.")
    var outputPath: String

    @Option(help: "Flash offset of the partition table.", transform: parseAddress)
    var offset: UInt32 = PartitionTable.defaultOffset

    @Option(help: "Secure boot version (v1 or v2): v1 requires 64 KiB-aligned app sizes.")
    var secure: PartitionTable.SecureBoot?

    @Option(help: "Flash size the partitions must fit in, e.g. 4MB.", transform: parseFlashSize)
    var flashSize: Int?

    @Flag(help: "Leave out the MD5 entry.")
    var noMD5 = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let text = String(decoding: try Files.read(csv), as: UTF8.self)
        let table = try PartitionTable(csv: text, tableOffset: offset, secureBoot: secure)
        if let flashSize { try table.verifyFits(flashSize: flashSize) }
        let binary = try table.binary(includeMD5: !noMD5)
        try Files.write(binary, to: outputPath)
        let md5 = noMD5 ? nil : hexString(binary[table.partitions.count * 32 + 16..<table.partitions.count * 32 + 32])
        let report = PartitionTableReport(table, md5: md5)
        try output.emit(report) { report.text + "\nWrote \(outputPath) (\(binary.count) bytes)" }
    }
}

struct PartitionsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a partition table, binary or CSV; the binary's MD5 entry is checked.")

    @Argument(help: "A binary table (as flashed at 0x8000) or a CSV file.")
    var file: String

    @Flag(help: "Print the table as CSV, like `gen_esp32part.py table.bin`.")
    var csv = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let bytes = try Files.read(file)
        let table: PartitionTable
        var md5: String?
        if bytes.starts(with: Partition.magic) {
            table = try PartitionTable(binary: bytes)
            let md5Offset = table.partitions.count * 32
            if bytes.count >= md5Offset + 32, bytes[md5Offset] == 0xEB {
                md5 = hexString(bytes[md5Offset + 16..<md5Offset + 32])
            }
        } else {
            table = try PartitionTable(csv: String(decoding: bytes, as: UTF8.self))
        }
        if csv && !output.json {
            print(table.csv(), terminator: "")
            return
        }
        let report = PartitionTableReport(table, md5: md5)
        try output.emit(report) { report.text }
    }
}

extension PartitionTable.SecureBoot: ExpressibleByArgument {}

private func parseAddress(_ text: String) throws -> UInt32 {
    guard let value = parseByteCount(text), let address = UInt32(exactly: value) else {
        throw ValidationError("'\(text)' is not an address (use hex like 0x8000 or decimal)")
    }
    return address
}

private func parseFlashSize(_ text: String) throws -> Int {
    guard let value = parseByteCount(text), value > 0 else {
        throw ValidationError("'\(text)' is not a flash size (use 4MB, 16MB, ...)")
    }
    return value
}
