import ESP32Formats
import Foundation
import TestSupport
import Testing

/// Differential tests against ESP-IDF's partition generator as packaged in esp-idf-defs 0.1.7 (PyPI), whose output
/// is byte-identical to gen_esp32part's (esp32-formats.md §7), and against Python's binascii for the otadata CRC.
@Suite struct PartitionInteropTests {
    /// Runs esp-idf-defs over every CSV in one Python process: for each, the binary or the refusal.
    static func generatorVerdicts(_ csvs: [String]) async throws -> [(accepted: Bool, binary: [UInt8], error: String)] {
        let directory = try TemporaryDirectory()
        let input = try directory.write("cases.json", Array(try JSONEncoder().encode(csvs)))
        let output = directory.path("verdicts.json")
        try await ExternalTools.python(
            """
            import json, sys
            from esp_idf_defs import PartitionTable
            from esp_idf_defs.partitions import InputError
            verdicts = []
            for text in json.load(open(sys.argv[1])):
                try:
                    table = PartitionTable.from_csv(text)
                    table.verify(partition_table_offset=0x8000)
                    verdicts.append({"ok": True, "bin": table.to_binary().hex(), "error": ""})
                except InputError as error:
                    verdicts.append({"ok": False, "bin": "", "error": str(error)})
            json.dump(verdicts, open(sys.argv[2], "w"))
            """, [input, output])
        struct Verdict: Decodable {
            let ok: Bool
            let bin: String
            let error: String
        }
        let verdicts = try JSONDecoder().decode([Verdict].self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        return verdicts.map { ($0.ok, Self.bytes(hex: $0.bin), $0.error) }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test func twoOTATableIsByteIdenticalToTheGenerator() async throws {
        let verdict = try await Self.generatorVerdicts([PartitionTable.twoOTACSV])[0]
        #expect(verdict.accepted)
        #expect(try PartitionTable.twoOTA.binary() == verdict.binary)
    }

    /// Random tables, valid and invalid, in the CSV dialect's many spellings: the generator and we must agree on
    /// acceptance, and on every byte when both accept.
    @Test func randomTablesAgreeWithTheGenerator() async throws {
        var random = SeededGenerator(seed: 0x5EED_0001)
        let csvs = (0..<300).map { _ in Self.randomCSV(using: &random) }
        let verdicts = try await Self.generatorVerdicts(csvs)
        var accepted = 0
        for (csv, verdict) in zip(csvs, verdicts) {
            let ours: [UInt8]?
            do {
                ours = try PartitionTable(csv: csv).binary()
            } catch {
                ours = nil
                #expect(!verdict.accepted, "we refused what the generator accepts: \(error)\n\(csv)")
            }
            if let ours {
                #expect(verdict.accepted, "we accepted what the generator refuses (\(verdict.error)):\n\(csv)")
                if verdict.accepted {
                    accepted += 1
                    #expect(ours == verdict.binary, "binary differs for:\n\(csv)")
                }
            }
        }
        // Both sides of the comparison must be exercised: plenty of accepted tables and plenty of refused ones.
        #expect(accepted > 100 && accepted < 280, "\(accepted) of 300 random tables were accepted")
    }

    @Test func generatorBinariesParseBackToTheSameTables() async throws {
        var random = SeededGenerator(seed: 0x5EED_0002)
        let csvs = (0..<60).map { _ in Self.randomCSV(using: &random, allowMistakes: false) }
        for (csv, verdict) in await zip(csvs, try Self.generatorVerdicts(csvs)) where verdict.accepted {
            #expect(try PartitionTable(binary: verdict.binary) == PartitionTable(csv: csv))
        }
    }

    @Test func otadataCRCMatchesPythonBinascii() async throws {
        var random = SeededGenerator(seed: 7)
        let sequences: [UInt32] =
            [0, 1, 2, 3, 4, 0xFFFF_FFFE, 0xFFFF_FFFF]
            + (0..<200).map { _ in UInt32.random(in: 0...UInt32.max, using: &random) }
        let result = try await ExternalTools.python(
            """
            import binascii, struct, sys
            for seq in sys.argv[1:]:
                print(binascii.crc32(struct.pack('<I', int(seq)), 0xFFFFFFFF))
            """, sequences.map(String.init))
        let expected = result.stdout.split(separator: "\n").compactMap { UInt32($0) }
        #expect(expected.count == sequences.count)
        for (sequence, crc) in zip(sequences, expected) {
            #expect(OTASelectEntry.crc(forSequence: sequence) == crc, "seq \(sequence)")
        }
    }

    /// A table as a person might write it: mixed spellings, blank and explicit offsets, K/M/hex/decimal sizes, flags.
    /// With `allowMistakes`, some rows break a rule (misaligned offsets, tiny NVS, overlaps, duplicate names).
    static func randomCSV(using random: inout SeededGenerator, allowMistakes: Bool = true) -> String {
        let kinds: [(type: String, subtype: String, sizes: [Int])] = [
            ("data", "nvs", [0x3000, 0x4000, 0x6000, 0x10000]), ("data", "phy", [0x1000]), ("data", "ota", [0x2000]),
            ("data", "spiffs", [0x10000, 0x40000]), ("data", "fat", [0x20000]), ("data", "coredump", [0x10000]),
            ("data", "nvs_keys", [0x1000]), ("data", "littlefs", [0x8000]), ("data", "0x99", [0x1000]),
            ("app", "factory", [0x100000, 0x180000]), ("app", "ota_0", [0x100000]), ("app", "ota_1", [0x100000]),
            ("app", "ota_5", [0x40000]), ("app", "test", [0x80000]), ("0x40", "0x01", [0x2000]),
            ("1", "0x82", [0x3000]),
        ]
        var lines = ["# Name, Type, SubType, Offset, Size, Flags"]
        var cursor = 0x9000
        var usedOTAData = false
        for index in 0..<Int.random(in: 1...12, using: &random) {
            var kind = kinds.randomElement(using: &random)!
            if kind.subtype == "ota" {
                if usedOTAData && !(allowMistakes && Bool.random(using: &random)) { kind = kinds[0] }
                usedOTAData = true
            }
            var size = kind.sizes.randomElement(using: &random)!
            let alignment = kind.type == "app" ? 0x10000 : 0x1000
            cursor = (cursor + alignment - 1) / alignment * alignment
            var offsetField = ""
            if Int.random(in: 0..<3, using: &random) == 0 {
                cursor += alignment * Int.random(in: 0...2, using: &random)
                offsetField = Bool.random(using: &random) ? "0x\(String(cursor, radix: 16))" : "\(cursor)"
            }
            var name = "part\(index)"
            var flags = ""
            if allowMistakes {
                switch Int.random(in: 0..<25, using: &random) {
                case 0: offsetField = "0x\(String(cursor + 0x800, radix: 16))"  // misaligned
                case 1 where kind.subtype == "nvs": size = 0x2000  // r/w NVS too small
                case 2: offsetField = "0x\(String(max(0x9000, cursor - 0x1000), radix: 16))"  // overlap
                case 3: name = "part0"  // duplicate
                case 4 where kind.type == "app": size += 0x800  // unaligned app size
                default: break
                }
            }
            if kind.type == "data", kind.subtype != "ota", kind.subtype != "coredump",
                Int.random(in: 0..<5, using: &random) == 0
            {
                flags = "readonly"
            }
            if Int.random(in: 0..<8, using: &random) == 0 { flags += flags.isEmpty ? "encrypted" : ":encrypted" }
            let sizeField: String
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where size % 0x100000 == 0: sizeField = "\(size / 0x100000)M"
            case 1 where size % 1024 == 0: sizeField = "\(size / 1024)K"
            case 2: sizeField = "\(size)"
            default: sizeField = "0x\(String(size, radix: 16))"
            }
            let spacing = Bool.random(using: &random) ? ", " : ","
            lines.append([name, kind.type, kind.subtype, offsetField, sizeField, flags].joined(separator: spacing))
            if let explicit = Int(
                offsetField.hasPrefix("0x") ? String(offsetField.dropFirst(2)) : offsetField,
                radix: offsetField.hasPrefix("0x") ? 16 : 10)
            {
                cursor = explicit
            }
            cursor += size
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
