import CodeSigning
import ESP32Formats
import ESP32Simulator
import Testing

// MCUboot-style power-fail tests: the same update is run again and again with the power cut before a different
// flash operation each time — download, activation, first boot, confirmation and rollback. After every cut the
// chip must boot an image signed by the fused key (the old one, or the new one once it was set to boot) and never
// an older secure_version; then the update (retried if the cut made it fail) must complete.
@Suite(.serialized) struct PowerCutTests {
    static let oldVersion = "1.0.0"
    static let newVersion = "1.1.0"

    static func freshRig(_ file: [UInt8], behaviour: UpdateRig.Behaviour = .passes) throws -> UpdateRig {
        try UpdateRig(
            chip: try Fixtures.chip(antiRollback: true, factoryVersion: oldVersion), file: file, behaviour: behaviour)
    }

    /// Powers the rig on until the job ends (retrying once after a failure that a cut caused); checks every boot.
    static func runToEnd(_ rig: inout UpdateRig, retries: Int = 2) throws {
        var retriesLeft = retries
        for _ in 0..<12 {
            let (boot, _) = try rig.powerOn()
            if let boot { try checkBoot(boot, rig: rig) }
            if rig.isFinished {
                guard rig.status == "FAILED", retriesLeft > 0, rig.behaviour == .passes else { return }
                retriesLeft -= 1
                rig.retry()
            }
        }
    }

    /// The invariant: a bootable image, signed by the fused key, from the two versions of the update, never below
    /// the fused secure_version.
    static func checkBoot(_ boot: BootOutcome, rig: UpdateRig) throws {
        let image = try rig.chip.flash.read(Int(boot.partition.offset), count: boot.imageLength)
        try SecureBootV1Signing.verify(image: image, publicKey: Fixtures.key.publicKey)
        #expect([oldVersion, newVersion].contains(boot.descriptor.version))
        #expect(Int(boot.descriptor.secureVersion) >= rig.chip.efuses.secureVersion)
    }

    /// Flash operations of a clean update from the first boot to confirmation (and the next boot).
    static func cleanOperationCount(_ file: [UInt8], behaviour: UpdateRig.Behaviour) throws -> Int {
        var rig = try freshRig(file, behaviour: behaviour)
        rig.chip.flash.arm(nil)
        try runToEnd(&rig)
        _ = try rig.powerOn()
        #expect(rig.status == (behaviour == .passes ? "SUCCEEDED" : "FAILED"))
        return rig.chip.flash.operationsSinceArming
    }

    /// Every operation of the metadata-heavy stretches, every `stride`-th of the bulk block writes.
    static func cutPoints(total: Int, stride: Int) -> [Int] {
        Array(
            Set(
                Array(1...min(total, 80)) + Array(Swift.stride(from: 1, through: total, by: stride))
                    + Array(max(1, total - 120)...total))
        ).sorted()
    }

    @Test func aCutBeforeAnyFlashOperationOfAnUpdateNeverBricksAndTheUpdateCompletes() async throws {
        let file = try Fixtures.updateFile(Self.newVersion, secureVersion: 1, payload: 256 * 1024 - 600)
        let total = try Self.cleanOperationCount(file, behaviour: .passes)
        let points = Self.cutPoints(total: total, stride: 97)
        for point in points {
            await Task.yield()  // long and synchronous: let the shared pool's other work (servers of other tests) run
            var rig = try Self.freshRig(file)
            rig.chip.flash.arm(PowerCutPlan(operation: point))
            try Self.runToEnd(&rig)
            let final = try rig.powerOn()
            #expect(rig.status == "SUCCEEDED", "cut before operation \(point) of \(total)")
            #expect(final.boot?.descriptor.version == Self.newVersion && final.boot?.state == .valid)
        }
        print("power cuts: \(points.count) cut points tried over \(total) flash operations of a 256 KiB update")
    }

    @Test func aCutDuringTheEraseOfOlderImagesBootsTheNewImageAndTheNextBootFinishesTheErase() async throws {
        let file = try Fixtures.updateFile(Self.newVersion, secureVersion: 1, payload: 64 * 1024)
        func rig(keepFactory: Bool) throws -> UpdateRig {
            var rig = try UpdateRig(
                chip: try OlderImageEraseTests.chip(antiRollback: true), file: file, behaviour: .passes)
            rig.keepFactoryApp = keepFactory
            return rig
        }
        func operations(keepFactory: Bool) throws -> Int {
            var clean = try rig(keepFactory: keepFactory)
            clean.chip.flash.arm(nil)
            try Self.runToEnd(&clean)
            _ = try clean.powerOn()
            return clean.chip.flash.operationsSinceArming
        }
        // The erase is the last thing an update does: its operations are the difference between the two settings.
        let total = try operations(keepFactory: false)
        let eraseOperations = total - (try operations(keepFactory: true))
        #expect(eraseOperations >= 50, "a 200 KiB factory app takes about 50 sector erases")
        var boots = 0
        for point in (total - eraseOperations + 1)...total {
            await Task.yield()
            // Every operation cut cleanly; every fourth also torn (a half-erased sector).
            for torn in point % 4 == 0 ? [false, true] : [false] {
                var cut = try rig(keepFactory: false)
                cut.chip.flash.arm(PowerCutPlan(operation: point, torn: torn, seed: UInt64(point)))
                var wasCut = false
                while !wasCut && !cut.isFinished { wasCut = try cut.powerOn().cut }
                #expect(wasCut, "the cut before operation \(point) happened")
                // Every boot after the cut runs the confirmed image; the first one finishes the erase.
                for _ in 0..<3 {
                    let boot = try #require(try cut.powerOn().boot, "cut before operation \(point)")
                    try Self.checkBoot(boot, rig: cut)
                    #expect(boot.descriptor.version == Self.newVersion && boot.state == .valid)
                    boots += 1
                }
                let running = try cut.chip.boot().partition
                #expect(cut.status == "SUCCEEDED", "cut before operation \(point), torn \(torn)")
                #expect(
                    try cut.chip.slotReport(running: running).map(\.summary)
                        == ["factory erased", "ota_0 1.1.0 valid (running)", "ota_1 erased"])
            }
        }
        print(
            "erase power cuts: \(eraseOperations) erase operations of \(total), each cut (every fourth also torn); "
                + "\(boots) boots after the cuts, all into the new image")
    }

    @Test func cutsDuringARollbackLeaveTheOldImageRunning() async throws {
        let file = try Fixtures.updateFile(Self.newVersion, secureVersion: 1, payload: 64 * 1024)
        let total = try Self.cleanOperationCount(file, behaviour: .fails)
        // The rollback part: the last operations (activation, first boot, self-test failure, reboot).
        let points = Array(max(1, total - 40)...total)
        for point in points {
            await Task.yield()
            var rig = try Self.freshRig(file, behaviour: .fails)
            rig.chip.flash.arm(PowerCutPlan(operation: point))
            try Self.runToEnd(&rig)
            let final = try rig.powerOn()
            #expect(final.boot?.descriptor.version == Self.oldVersion, "cut before operation \(point)")
            #expect(rig.status == "FAILED")
        }
        print("rollback power cuts: \(points.count) cut points tried")
    }

    @Test func randomTornAndRepeatedCuts() async throws {
        let file = try Fixtures.updateFile(Self.newVersion, secureVersion: 1, payload: 64 * 1024)
        let total = try Self.cleanOperationCount(file, behaviour: .passes)
        var generator = SplitMix64(seed: 2026)
        var runs = 0
        for _ in 0..<25 {
            await Task.yield()
            var rig = try Self.freshRig(file)
            // Up to three cuts in one update, each torn half of the time.
            for _ in 0..<Int(generator.next() % 3 + 1) where !rig.isFinished {
                let operation = Int(generator.next() % UInt64(total / 2)) + 1
                rig.chip.flash.arm(
                    PowerCutPlan(operation: operation, torn: generator.next() % 2 == 0, seed: generator.next()))
                for _ in 0..<4 {
                    let (boot, cut) = try rig.powerOn()
                    if let boot { try Self.checkBoot(boot, rig: rig) }
                    if cut || rig.isFinished { break }
                }
            }
            rig.chip.flash.arm(PowerCutPlan?.none)
            if rig.status == "FAILED" { rig.retry() }
            try Self.runToEnd(&rig)
            let final = try rig.powerOn()
            #expect(rig.status == "SUCCEEDED" && final.boot?.descriptor.version == Self.newVersion)
            runs += 1
        }
        print("random torn/repeated cuts: \(runs) runs")
    }
}
