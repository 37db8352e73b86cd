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
