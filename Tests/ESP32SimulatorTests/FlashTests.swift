import ESP32Simulator
import Testing

@Suite struct FlashTests {
    @Test func eraseSetsOnesAndProgrammingOnlyClearsBits() throws {
        let flash = SimulatedFlash(size: 64 * 1024)
        try flash.write(0x1000, [0x0F, 0xF0])
        #expect(try flash.read(0x1000, count: 3) == [0x0F, 0xF0, 0xFF])
        #expect(throws: FlashError.programWithoutErase(offset: 0x1000)) { try flash.write(0x1000, [0xFF]) }
        try flash.write(0x1000, [0x0E])  // clearing more bits is fine
        try flash.erase(0x1000, length: 4096)
        #expect(try flash.read(0x1000, count: 2) == [0xFF, 0xFF])
        #expect(throws: FlashError.unalignedErase(offset: 0x1001, length: 4096)) {
            try flash.erase(0x1001, length: 4096)
        }
        #expect(throws: FlashError.self) { try flash.read(64 * 1024 - 1, count: 2) }
    }

    @Test func everyEraseAndPageProgramIsOneOperation() throws {
        let flash = SimulatedFlash(size: 64 * 1024)
        flash.arm(nil)
        try flash.erase(0, length: 3 * 4096)
        #expect(flash.operationsSinceArming == 3)
        // 300 bytes at 0xF0: 16 up to the page end, then 64, 64, 64, 64, 28.
        try flash.write(0xF0, Array(repeating: 0, count: 300))
        #expect(flash.operationsSinceArming == 3 + 6)
    }

    @Test func aCleanCutLeavesTheOperationUndoneAndATornOneHalfDone() throws {
        let flash = SimulatedFlash(size: 64 * 1024)
        flash.arm(PowerCutPlan(operation: 2))
        #expect(throws: PowerCut(operation: 2)) { try flash.write(0, Array(repeating: 0, count: 128)) }
        #expect(try flash.read(0, count: 128) == Array(repeating: 0, count: 64) + Array(repeating: 0xFF, count: 64))

        flash.arm(PowerCutPlan(operation: 1, torn: true, seed: 7))
        #expect(throws: PowerCut.self) { try flash.write(0x2000, Array(repeating: 0, count: 64)) }
        let torn = try flash.read(0x2000, count: 64)
        #expect(torn.contains { $0 != 0 } && torn.contains { $0 != 0xFF }, "some bits programmed, some not")

        try flash.write(0x3000, Array(repeating: 0, count: 4096))
        flash.arm(PowerCutPlan(operation: 1, torn: true, seed: 3))
        #expect(throws: PowerCut.self) { try flash.erase(0x3000, length: 4096) }
        let sector = try flash.read(0x3000, count: 4096)
        let erased = sector.prefix { $0 == 0xFF }.count
        #expect(sector[erased...].allSatisfy { $0 == 0 }, "a torn erase erases a prefix and leaves the rest")
        #expect(erased < 4096, "and is not a whole erase")
    }
}

@Suite struct SparseFlashTests {
    @Test func onlySectorsHoldingDataTakeMemoryAndAnEraseGivesItBack() throws {
        let flash = SimulatedFlash(size: 4 << 20)
        #expect(flash.allocatedBytes == 0)
        try flash.write(0x10_0FF0, Array(repeating: 0x12, count: 32))  // straddles two sectors
        #expect(flash.allocatedBytes == 2 * 4096)
        try flash.write(0x20_0000, Array(repeating: 0xFF, count: 4096))  // programming ones changes nothing
        #expect(flash.allocatedBytes == 2 * 4096)
        #expect(try flash.read(0x10_0FEF, count: 34) == [0xFF] + Array(repeating: 0x12, count: 32) + [0xFF])
        try flash.erase(0x10_0000, length: 4096)
        #expect(flash.allocatedBytes == 4096)
        #expect(
            try flash.read(0x10_0FF0, count: 32) == Array(repeating: 0xFF, count: 16)
                + Array(repeating: 0x12, count: 16))
    }

    @Test func aDumpLoadsBackToTheSameChip() throws {
        let flash = SimulatedFlash(size: 64 * 1024)
        try flash.write(0x1234, (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let copy = SimulatedFlash(contents: flash.bytes)
        #expect(copy.bytes == flash.bytes)
        #expect(copy.allocatedBytes == flash.allocatedBytes)
        #expect(throws: FlashError.programWithoutErase(offset: 0x1235)) { try copy.write(0x1235, [0xFF]) }
    }

    @Test func theLastChangeOfARangeMovesOnlyWhenTheRangeChanges() throws {
        let flash = SimulatedFlash(size: 64 * 1024)
        let before = flash.lastChange(in: 0x4000, length: 0x2000)
        try flash.write(0x8000, [0])  // outside
        try flash.erase(0x2000, length: 4096)  // outside
        #expect(flash.lastChange(in: 0x4000, length: 0x2000) == before)
        try flash.write(0x5FFF, [0])
        let written = flash.lastChange(in: 0x4000, length: 0x2000)
        #expect(written > before)
        try flash.erase(0x4000, length: 4096)
        #expect(flash.lastChange(in: 0x4000, length: 0x2000) > written)
        flash.arm(PowerCutPlan(operation: 1, torn: true, seed: 5))
        let beforeCut = flash.lastChange(in: 0x4000, length: 0x2000)
        #expect(throws: PowerCut.self) { try flash.write(0x4100, Array(repeating: 0, count: 64)) }
        #expect(flash.lastChange(in: 0x4000, length: 0x2000) > beforeCut, "a torn program is a change too")
    }
}

/// The simulator checks an unchanged partition once; any change of its bytes or of the eFuses checks again.
@Suite struct ImageVerdictReuseTests {
    @Test func aChangedByteOrABurnedFuseIsCheckedAgain() throws {
        var chip = try Fixtures.chip(antiRollback: true)
        let first = try chip.boot()
        let slot = try Fixtures.install(try Fixtures.image("1.1.0", secureVersion: 1), on: chip, after: first)
        let layout = try FlashLayout(flash: chip.flash)
        let check = chip.bootloader.check
        #expect(
            try check.verify(slot, layout: layout, flash: chip.flash, efuses: chip.efuses).descriptor.version == "1.1.0"
        )
        #expect(
            try check.verify(slot, layout: layout, flash: chip.flash, efuses: chip.efuses).descriptor.version == "1.1.0"
        )

        var raised = chip.efuses
        try raised.raiseSecureVersion(to: 2)
        #expect(throws: ImageCheckError.secureVersionTooLow(image: 1, fused: 2)) {
            try check.verify(slot, layout: layout, flash: chip.flash, efuses: raised)
        }
        // Clear one bit of a non-zero payload byte: the same partition, other bytes.
        let window = try chip.flash.read(Int(slot.offset) + 0x2000, count: 64)
        let index = try #require(window.firstIndex { $0 != 0 })
        try chip.flash.write(Int(slot.offset) + 0x2000 + index, [window[index] & (window[index] - 1)])
        #expect(throws: (any Error).self) {
            try check.verify(slot, layout: layout, flash: chip.flash, efuses: chip.efuses)
        }
    }
}
