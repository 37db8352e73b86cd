import ESP32Formats
import Testing

@Suite struct PartitionTableTests {
    @Test func twoOTACSVResolvesToTheDefaultLayout() throws {
        let table = try PartitionTable(csv: PartitionTable.twoOTACSV)
        #expect(table == PartitionTable.twoOTA)
        #expect(table.otaSlots.map(\.name) == ["ota_0", "ota_1"])
        #expect(table.otaData?.offset == 0xD000)
        #expect(table.factory?.offset == 0x10000)
    }

    @Test func twoOTABinaryCarriesTheKnownMD5() throws {
        let binary = try PartitionTable.twoOTA.binary()
        #expect(binary.count == 0xC00)
        #expect(Array(binary[6 * 32..<6 * 32 + 2]) == [0xEB, 0xEB])
        #expect(hexString(binary[6 * 32 + 16..<7 * 32]) == "bf25822c0fa6d8641bd930251e06b4c4")
        #expect(binary.suffix(from: 7 * 32).allSatisfy { $0 == 0xFF })
        #expect(try PartitionTable(binary: binary) == PartitionTable.twoOTA)
    }

    @Test func entryLayoutIsEspPartitionInfo() {
        let entry = Partition(
            name: "ota_0", type: .app, subtype: 0x10, offset: 0x110000, size: 0x100000,
            encrypted: true, readonly: true
        ).encoded()
        #expect(entry.count == 32)
        #expect(Array(entry[0..<4]) == [0xAA, 0x50, 0x00, 0x10])
        #expect(Array(entry[4..<12]) == [0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x10, 0x00])
        #expect(Array(entry[12..<18]) == Array("ota_0".utf8) + [0])
        #expect(Array(entry[28..<32]) == [3, 0, 0, 0])
    }

    @Test func csvSyntaxOfGenEsp32part() throws {
        let csv = """
            # comment line
            nvs, data, nvs, 0x9000, 24K,
            fs, data, spiffs, , 0x10000, readonly
            custom, 0x40, 7, , 8k, encrypted:readonly\r
            app0, app, ota_0, 0x30000, -0x130000,
            """
        let table = try PartitionTable(csv: csv)
        #expect(table.partitions.map(\.offset) == [0x9000, 0xF000, 0x1F000, 0x30000])
        #expect(table.partitions[0].size == 24 * 1024)
        #expect(table.partitions[1].readonly && !table.partitions[1].encrypted)
        #expect(table.partitions[2].type.rawValue == 0x40 && table.partitions[2].subtype == 7)
        #expect(table.partitions[2].encrypted && table.partitions[2].readonly)
        #expect(table.partitions[3].size == 0x100000, "a negative size means 'ends at'")
        // csv() writes a table that parses back to the same partitions.
        #expect(try PartitionTable(csv: table.csv()) == table)
    }

    @Test func emptySubtypeOfADataPartitionIsUndefined() throws {
        let table = try PartitionTable(csv: "blob, data, , , 4K")
        #expect(table.partitions[0].subtype == 0x06)
    }

    @Test(arguments: [
        ("nvs, data, nvs, 0x9000\n", 1, "field 'Size' can't be empty"),
        ("\n\nnvs, , nvs, 0x9000, 16K\n", 3, "field 'Type' can't be left empty"),
        ("a, app, , , 1M", 1, "app partition cannot have an empty SubType"),
        ("a, app, nope, , 1M", 1, "invalid SubType value 'nope'; known keywords: factory, test, ota_0"),
        ("a, blob, 0, , 1M", 1, "invalid Type value 'blob'"),
        ("a, data, nvs, , 1Q", 1, "invalid Size value '1Q'"),
        ("a, data, nvs, , 16K, sticky", 1, "unknown flag 'sticky'"),
        ("a, data, nvs, , 16K, , extra", 1, "expected at most 6 fields"),
        ("a, data, nvs, 0x4000, 16K", 1, "partition table occupies the sector at 0x8000"),
        ("a, data, nvs, , 16K\nb, data, nvs, 0x9000, 16K", 2, "previous partition ends at 0xd000"),
        ("a, 0x100, 0, , 16K", 1, "type 256 is outside"),
    ])
    func csvErrorsNameTheLine(csv: String, line: Int, message: String) {
        do {
            _ = try PartitionTable(csv: csv)
            Issue.record("expected an error for \(csv)")
        } catch {
            guard case .csv(let errorLine, let text) = error else {
                Issue.record("expected a CSV error, got \(error)")
                return
            }
            #expect(errorLine == line)
            #expect(text.contains(message), "\(text)")
            #expect(error.description.hasPrefix("CSV error at line \(line): "))
        }
    }

    @Test func ruleViolationsAreTypedAndCarryTheLine() {
        func failure(_ csv: String) -> PartitionTableError? {
            do {
                _ = try PartitionTable(csv: csv)
                return nil
            } catch { return error }
        }
        guard
            case .invalidPartition("app", 2, let misaligned)? = failure(
                "nvs, data, nvs, , 16K\napp, app, factory, 0x11000, 1M")
        else { Issue.record("misaligned app accepted"); return }
        #expect(misaligned.contains("not aligned to 0x10000"))
        guard case .invalidPartition("fw", 1, let size)? = failure("fw, app, factory, , 0x10800") else {
            Issue.record("unaligned app size accepted"); return
        }
        #expect(size.contains("size 0x10800"))
        guard case .invalidPartition("n", 1, let nvs)? = failure("n, data, nvs, , 8K") else {
            Issue.record("small r/w NVS accepted"); return
        }
        #expect(nvs.contains("0x3000"))
        #expect(failure("n, data, nvs, , 8K, readonly") == nil)
        guard case .invalidPartition("o", 1, _)? = failure("o, data, ota, , 8K, readonly") else {
            Issue.record("readonly otadata accepted"); return
        }
        #expect(failure("o, data, ota, , 16K") == .otaDataSize(name: "o", size: 0x4000))
        #expect(failure("o, data, ota, , 8K\np, data, ota, , 8K") == .multipleOTAData(subtype: 0))
        #expect(failure("a, data, nvs, , 16K\na, data, nvs, , 16K") == .duplicateName("a"))
        guard case .invalidPartition(_, 1, let long)? = failure("a_name_of_17_byte, data, nvs, , 16K") else {
            Issue.record("long name accepted"); return
        }
        #expect(long.contains("at most 16"))
    }

    /// Found by Fuzz/PartitionCSV: a NUL in a name ends it in the 16-byte binary entry, so the table written was
    /// not the table read (`\0,app,0,,0x1000` wrote a partition whose name reads back as "").
    @Test func aNameWithANULIsRefused() {
        let fuzzInput: [UInt8] = [
            0x00, 0x2C, 0x61, 0x70, 0x70, 0x2C, 0x30, 0x2C, 0x2C, 0x30, 0x78, 0x31, 0x30, 0x30, 0x30,
        ]
        do {
            let table = try PartitionTable(csv: String(decoding: fuzzInput, as: UTF8.self))
            Issue.record(
                "accepted a NUL in a name; its binary reads back as \(try PartitionTable(binary: table.binary()))")
        } catch {
            guard case .invalidPartition("\0", 1, let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(message.contains("NUL"))
        }
        #expect(throws: PartitionTableError.self) {
            try PartitionTable(csv: "nvs, data, nvs, , 16K\nota\u{0}x, app, ota_0, , 1M")
        }
    }

    /// Found by Fuzz/PartitionTable: a name that is not UTF-8 was read with replacement characters, longer than the
    /// 16-byte field, so writing the table cut a character in half and every later write differed.
    @Test func aBinaryNameThatIsNotUTF8IsRefused() {
        let fuzzInput: [UInt8] = [
            0xAA, 0x50, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x20, 0x00, 0x03, 0x91, 0x8B, 0x9E, 0x9B,
            0x9E, 0xCC, 0x9E, 0x00, 0x66, 0x61, 0x63, 0x82, 0x90, 0xFF, 0xFF, 0xBF, 0x91, 0x00, 0x00, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF, 0x50, 0x00, 0x00, 0xAA, 0x50, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61, 0x00,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x50, 0x01, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61,
        ]
        #expect(throws: PartitionTableError.nameNotUTF8(index: 0, name: [0x91, 0x8B, 0x9E, 0x9B, 0x9E, 0xCC, 0x9E])) {
            try PartitionTable(binary: fuzzInput)
        }
    }

    @Test func overlapsAndLowOffsetsAreFoundInBuiltTables() {
        let overlapping = PartitionTable(partitions: [
            Partition(name: "a", type: .data, subtype: 2, offset: 0x9000, size: 0x4000),
            Partition(name: "b", type: .data, subtype: 1, offset: 0xC000, size: 0x1000),
        ])
        #expect(
            throws: PartitionTableError.overlap(
                name: "b", offset: 0xC000, otherName: "a", otherOffset: 0x9000,
                otherEnd: 0xD000)
        ) { try overlapping.verify() }
        let low = PartitionTable(partitions: [
            Partition(name: "a", type: .data, subtype: 1, offset: 0x7000, size: 0x1000)
        ])
        #expect(throws: PartitionTableError.belowTable(name: "a", offset: 0x7000, firstFree: 0x9000)) {
            try low.verify()
        }
        #expect(throws: PartitionTableError.doesNotFitFlash(end: 0x310000, flashSize: 2 * 1024 * 1024)) {
            try PartitionTable.twoOTA.verifyFits(flashSize: 2 * 1024 * 1024)
        }
        #expect(throws: PartitionTableError.empty) { try PartitionTable(csv: "# nothing\n") }
    }

    @Test func ninetyFivePartitionsDoNotFit() throws {
        let rows = (0..<95).map { "p\($0), data, undefined, , 4K" }.joined(separator: "\n")
        let table = try PartitionTable(csv: rows)
        #expect(throws: PartitionTableError.tooLarge(bytes: 96 * 32)) { try table.binary() }
        let fits = try PartitionTable(csv: (0..<94).map { "p\($0), data, undefined, , 4K" }.joined(separator: "\n"))
        #expect(try fits.binary().count == 0xC00)
    }

    @Test func corruptBinariesAreRefusedWithTheReason() throws {
        let good = try PartitionTable.twoOTA.binary()
        var flipped = good
        flipped[40] ^= 0x01
        let error = thrownError { () throws(PartitionTableError) in _ = try PartitionTable(binary: flipped) }
        guard case .md5Mismatch? = error else {
            Issue.record("corrupt entry not caught by MD5, got \(String(describing: error))")
            return
        }
        var badMagic = good
        badMagic[64] = 0x12
        #expect(throws: PartitionTableError.badMagic(index: 2, magic: [0x12, 0x50])) {
            try PartitionTable(binary: badMagic)
        }
        let noEnd = Array(good[0..<7 * 32]) + Array(repeating: 0, count: 0)
        #expect(throws: PartitionTableError.missingEndMarker) { try PartitionTable(binary: noEnd) }
        #expect(throws: PartitionTableError.truncatedEntry(index: 1, bytes: 10)) {
            try PartitionTable(binary: Array(good[0..<42]))
        }
        #expect(throws: PartitionTableError.empty) { try PartitionTable(binary: Array(repeating: 0xFF, count: 0xC00)) }
        // Without an MD5 entry the bootloader accepts the table.
        #expect(try PartitionTable(binary: try PartitionTable.twoOTA.binary(includeMD5: false)) == .twoOTA)
    }
}

/// The typed error `body` throws, or nil when it returns.
func thrownError<E: Error>(_ body: () throws(E) -> Void) -> E? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}
