import ESP32Formats
import Testing

@Suite struct OTADataTests {
    @Test(arguments: [
        (UInt32(1), UInt32(0x4743_989A)), (2, 0x55F6_3774), (3, 0xED4A_5011), (4, 0x709D_68A8),
    ])
    func crcMatchesESPIDFVectors(sequence: UInt32, crc: UInt32) {
        #expect(OTASelectEntry.crc(forSequence: sequence) == crc)
    }

    @Test func romCRCWithSeedZeroIsTheStandardCRC32() {
        // The standard CRC-32 of 01 00 00 00 is 0x99F8B879 — what the otadata CRC is NOT (pitfall 1).
        #expect(CRC32.checksum([1, 0, 0, 0]) == 0x99F8_B879)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func entryEncodesExactlyAsESPIDFWritesIt() throws {
        let entry = OTASelectEntry(sequence: 1, state: .new)
        let expected: [UInt8] =
            [1, 0, 0, 0] + Array(repeating: 0xFF, count: 20) + [0, 0, 0, 0] + [0x9A, 0x98, 0x43, 0x47]
        #expect(entry.encoded() == expected)
        #expect(try OTASelectEntry(bytes: expected) == entry)
    }

    @Test func validityFollowsTheBootloaderPredicates() {
        #expect(OTASelectEntry(sequence: 1, state: .pendingVerify).isValid)
        #expect(OTASelectEntry(sequence: 1, state: .undefined).isValid)
        #expect(!OTASelectEntry(sequence: 1, state: .invalid).isValid)
        #expect(!OTASelectEntry(sequence: 1, state: .aborted).isValid)
        #expect(!OTASelectEntry.erased.isValid)
        var badCRC = OTASelectEntry(sequence: 2, state: .valid)
        badCRC.crc ^= 1
        #expect(!badCRC.isValid)
        // A torn state word is unprotected by the CRC and counts as bootable.
        let torn = OTASelectEntry(
            sequence: 2, label: Array(repeating: 0xFF, count: 20), rawState: 0x00FF_00FF,
            crc: OTASelectEntry.crc(forSequence: 2))
        #expect(torn.isValid && torn.state == nil)
    }

    @Test func activeEntryIsTheValidOneWithTheLargerSequence() throws {
        let one = OTASelectEntry(sequence: 1, state: .valid)
        let two = OTASelectEntry(sequence: 2, state: .new)
        #expect(OTAData(entries: [one, two]).activeIndex == 1)
        #expect(OTAData(entries: [two, one]).activeIndex == 0)
        #expect(OTAData(entries: [one, one]).activeIndex == 0, "a tie goes to entry 0")
        #expect(OTAData(entries: [one, OTASelectEntry(sequence: 2, state: .aborted)]).activeIndex == 0)
        #expect(OTAData(entries: [.erased, .erased]).activeIndex == nil)
        let partition = OTAData(entries: [one, two]).encoded()
        #expect(partition.count == 0x2000)
        #expect(partition[0x1000] == 2 && partition[0x20] == 0xFF)
        #expect(try OTAData(partition: partition) == OTAData(entries: [one, two]))
    }

    @Test func slotIsSequenceMinusOneModuloTheSlotCount() {
        #expect(OTASelectEntry(sequence: 1, state: .new).slot(otaAppCount: 2) == 0)
        #expect(OTASelectEntry(sequence: 2, state: .new).slot(otaAppCount: 2) == 1)
        #expect(OTASelectEntry(sequence: 3, state: .new).slot(otaAppCount: 2) == 0)
        #expect(OTASelectEntry(sequence: 8, state: .new).slot(otaAppCount: 8) == 7)
        #expect(OTASelectEntry(sequence: 1, state: .new).slot(otaAppCount: 0) == nil)
    }

    @Test func wrongSizesAreTypedErrors() {
        #expect(throws: OTADataError.wrongPartitionSize(0x1000)) {
            try OTAData(partition: Array(repeating: 0xFF, count: 0x1000))
        }
        #expect(throws: OTADataError.truncated(length: 31)) {
            try OTASelectEntry(bytes: Array(repeating: 0, count: 31))
        }
    }
}
