import Crypto
import ESP32Formats
import ESP32Simulator
import Testing

// Each attack leaves the device on its old image and the job FAILED with the agent's reason.
@Suite(.serialized) struct AttackTests {
    static func run(_ rig: inout UpdateRig) throws -> BootOutcome? {
        var last: BootOutcome?
        for _ in 0..<6 where !rig.isFinished { last = try rig.powerOn().boot }
        return try rig.powerOn().boot ?? last
    }

    static func expectRefused(_ rig: inout UpdateRig, reason: String, old: String = "1.0.0") throws {
        let final = try Self.run(&rig)
        #expect(rig.status == "FAILED")
        #expect(rig.statusDetails == #"{"reason":"\#(reason)"}"#)
        #expect(final?.descriptor.version == old, "still on the old image")
    }

    static let good = Result { try Fixtures.updateFile("1.1.0", payload: 40_000) }

    @Test func aSingleFlippedBitIsRefusedBySignature() throws {
        let good = try Self.good.get()
        var flipped = good
        flipped[20_000] ^= 0x10
        var rig = try UpdateRig(chip: try Fixtures.chip(), file: flipped, signed: good, behaviour: .passes)
        try Self.expectRefused(&rig, reason: "0x000000e3: 0x00000000")
    }

    @Test func aSignatureByAnotherKeyIsRefused() throws {
        var rig = try UpdateRig(
            chip: try Fixtures.chip(), file: try Self.good.get(), signer: P256.Signing.PrivateKey(), behaviour: .passes)
        try Self.expectRefused(&rig, reason: "0x000000e3: 0x00000000")
    }

    @Test func aValidOlderVersionIsRolledBackAsADowngrade() throws {
        let older = try Fixtures.updateFile("0.9.0", payload: 40_000)
        var rig = try UpdateRig(chip: try Fixtures.chip(), file: older, behaviour: .passes)
        try Self.expectRefused(&rig, reason: "rejected: 0x0000000f")
    }

    @Test func aValidImageWithAnOlderSecureVersionIsRefusedBeforeItCanBoot() throws {
        var chip = try SimulatedChip.manufacture(
            factoryImage: try Fixtures.image("1.0.0", secureVersion: 2), secureBootKey: Fixtures.rawKey,
            antiRollback: true)
        try chip.efuses.raiseSecureVersion(to: 2)
        let older = try Fixtures.updateFile("1.1.0", secureVersion: 1, payload: 40_000)
        var rig = try UpdateRig(chip: chip, file: older, behaviour: .passes)
        try Self.expectRefused(&rig, reason: "0x000000ee: 0x00000000")
    }

    @Test func aFileLargerThanAnnouncedFailsTheDownload() throws {
        let good = try Self.good.get()
        var rig = try UpdateRig(
            chip: try Fixtures.chip(), file: good, behaviour: .passes, announcedSize: good.count - 5000)
        try Self.expectRefused(&rig, reason: "0x000000e0: 0x00000000")
    }

    @Test func aTruncatedDownloadIsRefusedBySignature() throws {
        let good = try Self.good.get()
        var rig = try UpdateRig(
            chip: try Fixtures.chip(), file: Array(good.prefix(good.count - 4096)), signed: good, behaviour: .passes)
        try Self.expectRefused(&rig, reason: "0x000000e3: 0x00000000")
    }

    @Test func blocksOfAnotherFileAreRefusedBySignature() throws {
        let other = try Fixtures.updateFile("1.1.0", payload: 40_001)
        var rig = try UpdateRig(
            chip: try Fixtures.chip(), file: Array(other.prefix(try Self.good.get().count)),
            signed: try Self.good.get(),
            behaviour: .passes)
        try Self.expectRefused(&rig, reason: "0x000000e3: 0x00000000")
    }
}
