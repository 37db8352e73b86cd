import ESP32Formats
import ESP32Simulator
import Testing

// Once a new image is confirmed, the port erases every other app slot holding an older image, so that no forced
// rollback is possible: these tests show the slots after an update, the attack the erase stops (otadata forced
// back to the old slot), the factory setting, and power cuts at every flash operation of the erase.
@Suite struct OlderImageEraseTests {
    /// A chip with a 200 KiB factory app 1.0.0 (about 50 sectors for the erase to go through).
    static func chip(antiRollback: Bool = false) throws -> SimulatedChip {
        try SimulatedChip.manufacture(
            factoryImage: try factoryImage.get(), secureBootKey: Fixtures.rawKey, antiRollback: antiRollback)
    }
    static let factoryImage = Result { try Fixtures.image("1.0.0", payload: 200_000) }

    /// Runs the update of `rig` to SUCCEEDED and boots once more; returns that boot.
    static func update(_ rig: inout UpdateRig) throws -> BootOutcome {
        for _ in 0..<6 where !rig.isFinished { _ = try rig.powerOn() }
        #expect(rig.status == "SUCCEEDED")
        return try #require(try rig.powerOn().boot)
    }

    static func slots(_ chip: SimulatedChip, _ boot: BootOutcome) throws -> [String] {
        try chip.slotReport(running: boot.partition).map(\.summary)
    }

    @Test func aConfirmedUpdateLeavesOnlyTheNewImage() throws {
        var rig = try UpdateRig(
            chip: try Self.chip(), file: try Fixtures.updateFile("1.1.0", payload: 64 * 1024), behaviour: .passes)
        #expect(
            try Self.slots(rig.chip, try rig.chip.boot()) == [
                "factory 1.0.0 (running)", "ota_0 erased", "ota_1 erased",
            ])
        let boot = try Self.update(&rig)
        #expect(try Self.slots(rig.chip, boot) == ["factory erased", "ota_0 1.1.0 valid (running)", "ota_1 erased"])

        // The next update erases the slot of 1.1.0 once 1.2.0 is confirmed.
        var next = try UpdateRig(
            chip: rig.chip, file: try Fixtures.updateFile("1.2.0", payload: 80 * 1024), behaviour: .passes)
        let second = try Self.update(&next)
        #expect(try Self.slots(next.chip, second) == ["factory erased", "ota_0 erased", "ota_1 1.2.0 valid (running)"])
    }

    @Test func aDeviceSetToKeepItsFactoryAppKeepsOnlyThat() throws {
        var rig = try UpdateRig(
            chip: try Self.chip(), file: try Fixtures.updateFile("1.1.0", payload: 64 * 1024), behaviour: .passes)
        rig.keepFactoryApp = true
        let boot = try Self.update(&rig)
        #expect(try Self.slots(rig.chip, boot) == ["factory 1.0.0", "ota_0 1.1.0 valid (running)", "ota_1 erased"])
        var next = try UpdateRig(
            chip: rig.chip, file: try Fixtures.updateFile("1.2.0", payload: 80 * 1024), behaviour: .passes)
        next.keepFactoryApp = true
        let second = try Self.update(&next)
        #expect(try Self.slots(next.chip, second) == ["factory 1.0.0", "ota_0 erased", "ota_1 1.2.0 valid (running)"])
    }

    @Test func aFailedSelfTestKeepsTheRunningImageAndErasesNothingItNeeds() throws {
        var good = try UpdateRig(
            chip: try Self.chip(), file: try Fixtures.updateFile("1.1.0", payload: 64 * 1024), behaviour: .passes)
        _ = try Self.update(&good)
        var bad = try UpdateRig(
            chip: good.chip, file: try Fixtures.updateFile("1.2.0", payload: 64 * 1024), behaviour: .fails)
        for _ in 0..<6 where !bad.isFinished { _ = try bad.powerOn() }
        let boot = try #require(try bad.powerOn().boot)
        #expect(bad.status == "FAILED" && boot.descriptor.version == "1.1.0")
        // The rejected newer image is no rollback target: it stays, marked, and the bootloader skips it.
        let slots = try Self.slots(bad.chip, boot)
        #expect(slots[0] == "factory erased" && slots[1] == "ota_0 1.1.0 valid (running)")
        #expect(slots[2] == "ota_1 1.2.0 aborted" || slots[2] == "ota_1 1.2.0 invalid", "\(slots)")
    }

    /// The attack the erase stops: with flash access, point otadata back at the slot of the previous firmware.
    @Test func forcingOtadataBackToTheOldSlotDoesNotBootTheOldFirmware() throws {
        for keepFactory in [false, true] {
            var first = try UpdateRig(
                chip: try Self.chip(), file: try Fixtures.updateFile("1.1.0", payload: 64 * 1024), behaviour: .passes)
            first.keepFactoryApp = keepFactory
            _ = try Self.update(&first)
            var second = try UpdateRig(
                chip: first.chip, file: try Fixtures.updateFile("1.2.0", payload: 64 * 1024), behaviour: .passes)
            second.keepFactoryApp = keepFactory
            _ = try Self.update(&second)
            var chip = second.chip

            // A VALID entry for ota_0 (1.1.0's slot) with the highest sequence number.
            let layout = try FlashLayout(flash: chip.flash)
            let data = try layout.readOTAData(chip.flash)
            let sequence = (data.entries.filter(\.isValid).map(\.sequence).max() ?? 0) + 1
            let forced = sequence % 2 == 1 ? sequence : sequence + 1  // (seq - 1) % 2 == 0 selects ota_0
            try layout.writeEntry(OTASelectEntry(sequence: forced, state: .valid), at: 0, to: chip.flash)
            try layout.writeEntry(OTASelectEntry(sequence: forced, state: .valid), at: 1, to: chip.flash)
            let forcedBoot = try chip.boot()
            #expect(forcedBoot.log.contains { $0.contains("Loading app partition ota_0") })
            // The old slot holds nothing bootable; ESP-IDF's fallback tries lower slots, the factory app, then higher
            // slots: a kept factory app is the one older firmware an attacker can still reach (the trade-off).
            #expect(forcedBoot.descriptor.version == (keepFactory ? "1.0.0" : "1.2.0"))

            // With otadata wiped, the bootloader's factory boot settings: the same.
            try chip.flash.erase(Int(layout.otaData.offset), length: 2 * OTAData.sectorSize)
            let wiped = try chip.boot()
            #expect(wiped.descriptor.version == (keepFactory ? "1.0.0" : "1.2.0"))
        }
    }
}
