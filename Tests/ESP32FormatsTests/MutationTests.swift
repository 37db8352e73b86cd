import ESP32Formats
import TestSupport
import Testing

/// Randomized robustness: mutated images, binary tables, otadata and CSV never crash the parsers; every refusal
/// is a typed error, and whatever is accepted is internally consistent.
@Suite struct MutationTests {
    static let cases = 10_000

    /// Flips bits, overwrites bytes with boundary values, truncates, extends and splices — the usual fuzzing moves.
    static func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { bytes = [0xE9]; continue }
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1: bytes[position] = [0x00, 0xFF, 0x7F, 0x80, 0x10, 0x11].randomElement(using: &random)!
            case 2: bytes.removeSubrange(position...)
            case 3:
                bytes += (0..<Int.random(in: 1...300, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            case 4:  // a little-endian word set to an extreme: lengths, counts, offsets
                let word: [UInt8] = [
                    [0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0x80], [0xFC, 0xFF, 0xFF, 0x00], [4, 0, 0, 0],
                ]
                .randomElement(using: &random)!
                for (index, byte) in word.enumerated() where position + index < bytes.count {
                    bytes[position + index] = byte
                }
            case 5: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + 16)], at: position)
            default: bytes.remove(at: position)
            }
        }
        return bytes
    }

    @Test func mutatedImagesNeverCrash() throws {
        var random = SeededGenerator(seed: 0xF0221)
        let seeds = [
            try sampleImage(payload: Array(repeating: 0x11, count: 300)),
            try sampleImage(payload: (0..<2000).map { UInt8(truncatingIfNeeded: $0) }, secureBootV1Padding: true),
        ]
        var accepted = 0
        for index in 0..<Self.cases {
            let bytes = Self.mutate(seeds[index % seeds.count], using: &random)
            do {
                let image = try AppImage(bytes: bytes)
                accepted += 1
                #expect(image.imageLength <= bytes.count && image.segments.count <= 16)
                for segment in image.segments { #expect(segment.dataRange.upperBound <= image.checksumOffset) }
                _ = image.verify()
                _ = try? image.appDescriptor()
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(accepted > 100, "mutations should leave some images structurally parseable")
    }

    @Test func mutatedPartitionTablesNeverCrash() throws {
        var random = SeededGenerator(seed: 0xF0222)
        let seed = try PartitionTable.twoOTA.binary()
        let noMD5 = try PartitionTable.twoOTA.binary(includeMD5: false)
        for index in 0..<Self.cases {
            let bytes = Self.mutate(index % 2 == 0 ? seed : noMD5, using: &random)
            if let table = try? PartitionTable(binary: bytes) {
                // Whatever parses must encode to 32-byte entries and survive our own verification without trapping.
                #expect(table.partitions.allSatisfy { $0.encoded().count == 32 })
                _ = try? table.verify()
                _ = try? table.binary()
            }
        }
    }

    @Test func mutatedCSVNeverCrashes() throws {
        var random = SeededGenerator(seed: 0xF0223)
        let seed = Array(PartitionTable.twoOTACSV.utf8) + Array("fs, data, spiffs, 0x310000, 0xF0000, readonly\n".utf8)
        for _ in 0..<Self.cases {
            let text = String(decoding: Self.mutate(seed, using: &random), as: UTF8.self)
            if let table = try? PartitionTable(csv: text) {
                #expect((try? table.binary()) != nil || table.partitions.count > 94)
            }
        }
    }

    @Test func mutatedOTADataNeverCrashes() throws {
        var random = SeededGenerator(seed: 0xF0224)
        let seed = OTAData(entries: [
            OTASelectEntry(sequence: 5, state: .valid), OTASelectEntry(sequence: 6, state: .new),
        ]).encoded()
        for _ in 0..<Self.cases {
            let bytes = Self.mutate(seed, using: &random)
            if let data = try? OTAData(partition: bytes), let active = data.activeIndex {
                #expect(data.entries[active].isValid)
                _ = data.entries[active].slot(otaAppCount: 2)
            }
        }
    }
}
