import CodeSigning
import Crypto
import ESP32Simulator
import Foundation
import OTAService

/// The demo's steps, each with the outcome it expects, what it observed and how long it took.
public struct DemoScript {
    let world: DemoWorld
    let board: ProgressBoard
    let devices: Int

    /// The script for `devices` devices at the start (4 or more; one more joins later) in `world`, drawn on `board`.
    public init(world: DemoWorld, board: ProgressBoard, devices: Int) {
        self.world = world
        self.board = board
        self.devices = devices
    }

    func name(_ index: Int) -> String { String(format: "esp32-%03d", index) }

    /// Runs every step; a step that throws ends the demo as a failed step "demo". Then the fleet as it stands.
    public func summary() async -> DemoSummary {
        var steps: [DemoStep] = []
        do {
            steps = try await run()
        } catch {
            steps.append(DemoStep(name: "demo", expected: "runs", observed: "\(error)", ok: false, seconds: 0))
        }
        return DemoSummary(
            devices: devices + 1, steps: steps,
            fleet: world.fleet.snapshot.map { DeviceReport(thing: $0.thing, status: $0.status) })
    }

    func run() async throws -> [DemoStep] {
        var steps: [DemoStep] = []
        let clock = ContinuousClock()

        var start = clock.now
        board.say("SwiftOTA demo: service on 127.0.0.1 (MQTT port \(world.mqttPort)), data in \(world.dataDirectory)")
        try await world.createSigningProfile()
        let factory = try world.firmware("1.0.0", signed: true)
        for index in 1...devices { try await world.provision(name(index), factory: factory) }
        try await waitFor(seconds: 30, title: "booting") { fleet in
            fleet.count == devices
                && fleet.allSatisfy { $0.status.runningVersion == "1.0.0" && $0.status.phase == .idle }
        }
        steps.append(
            step("provision \(devices) devices", "all run 1.0.0", "\(devices) devices on 1.0.0", true, since: start))

        // 1.1.0: a continuous update for the group, signed by the service, at most 600 devices a minute.
        start = clock.now
        board.say("Rolling out firmware 1.1.0 (continuous, rollout ≤ 600/min) …")
        let v110 = try await world.server.updates.upload(
            try world.firmware("1.1.0", signed: false), name: "thermostat-1.1.0.bin", kind: .app)
        _ = try await world.server.updates.create(
            CreateUpdateRequest(
                id: "v1-1-0", fileID: v110.id, signingProfile: "demo", groups: [DemoWorld.group],
                targetSelection: .continuous, rollout: RolloutConfig(maximumPerMinute: 600)))
        let rolledOut = try await waitForJob("v1-1-0", title: "1.1.0", count: devices) { $0.status == .succeeded }
        steps.append(
            step(
                "roll out 1.1.0", "\(devices) SUCCEEDED, all run 1.1.0", "\(rolledOut) SUCCEEDED",
                rolledOut == devices && runningAll("1.1.0"), since: start))

        // A device joins the group later and gets the continuous update by itself.
        start = clock.now
        let newcomer = name(devices + 1)
        board.say("Adding \(newcomer) to the group: the continuous update reaches it …")
        try await world.provision(newcomer, factory: factory)
        let joined = try await waitForJob("v1-1-0", title: "newcomer", count: devices + 1) { $0.status == .succeeded }
        steps.append(
            step(
                "new device gets 1.1.0", "\(newcomer) SUCCEEDED on its own",
                "\(joined) SUCCEEDED, \(newcomer) runs \(world.fleet.status(of: newcomer)?.runningVersion ?? "?")",
                joined == devices + 1 && world.fleet.status(of: newcomer)?.runningVersion == "1.1.0", since: start))

        // Once 1.1.0 was confirmed, each device erased every older image (the factory app 1.0.0 included): a
        // forced rollback finds nothing to boot.
        start = clock.now
        let onlyNew = world.fleet.snapshot.filter { entry in
            let images = entry.status.slots.filter { $0.content != .erased }
            return images.count == 1 && images[0].running && images[0].version == "1.1.0" && images[0].state == "valid"
        }
        let example = world.fleet.snapshot.first?.status.slots.map(\.summary).joined(separator: ", ") ?? "no slots"
        steps.append(
            step(
                "older firmware erased", "every device keeps only 1.1.0 (factory 1.0.0 erased)",
                "\(onlyNew.count) of \(devices + 1): \(example)", onlyNew.count == devices + 1, since: start))

        // 1.2.0 fails its self-test: devices roll back, the abort threshold stops the rollout.
        start = clock.now
        // A rate below the fleet size, so that the abort visibly stops devices from ever getting 1.2.0.
        let rate = max(3, (devices + 1) / 4)
        board.say("Deploying 1.2.0, whose self-test fails (rollout \(rate)/min, abort at 50% FAILED of 3) …")
        let v120 = try await world.server.updates.upload(
            try world.firmware("1.2.0", project: "thermostat+selftest-fail", signed: false),
            name: "thermostat-1.2.0.bin",
            kind: .app)
        _ = try await world.server.updates.create(
            CreateUpdateRequest(
                id: "v1-2-0", fileID: v120.id, signingProfile: "demo", groups: [DemoWorld.group],
                rollout: RolloutConfig(maximumPerMinute: rate),
                abortCriteria: [
                    AbortCriterion(failureType: .failed, thresholdPercentage: 50, minNumberOfExecutedThings: 3)
                ]))
        try await waitFor(seconds: 60, title: "1.2.0") { _ in
            false
        } until: {
            let job = try await world.job("v1-2-0")
            let open = try await world.executions("v1-2-0").filter { !$0.status.isTerminal }
            return job?.status == .canceled && open.isEmpty
        }
        try await waitFor(seconds: 30, title: "rolling back") { fleet in
            fleet.allSatisfy { $0.status.runningVersion == "1.1.0" && $0.status.phase != .rebooting }
        }
        let v120Runs = try await world.executions("v1-2-0")
        let failed = v120Runs.filter { $0.status == .failed }
        let reasons = Set(failed.compactMap(\.statusDetails))
        let aborted = try await world.job("v1-2-0")
        steps.append(
            step(
                "1.2.0 self-test fails → rollback",
                "≥ 3 FAILED (rejected), all back on 1.1.0, job aborted before reaching everyone",
                "\(failed.count) FAILED \(reasons.sorted().joined(separator: " ")), job \(aborted?.status.rawValue ?? "?"), "
                    + "\(devices + 1 - v120Runs.count) never got it",
                failed.count >= 3 && reasons == [#"{"reason":"rejected: 0x00000000"}"#] && aborted?.status == .canceled
                    && (aborted?.reason ?? "").hasPrefix("abort") && runningAll("1.1.0")
                    && v120Runs.count < devices + 1,
                since: start))

        // An image signed by a key the devices do not trust: every device refuses it.
        start = clock.now
        board.say("Deploying 1.3.0 signed by an untrusted key: every device must refuse it …")
        let rogueKey = P256.Signing.PrivateKey()
        let rogueCertificate = try CertificateAuthority.selfSignedCodeSigningCertificate(
            key: rogueKey, commonName: "not the fused key", validity: Validity(days: 1))
        let roguePath = world.dataDirectory + "/rogue.key"
        try KeyFiles.writePrivateKey(rogueKey, to: roguePath)
        _ = try await world.server.updates.createSigningProfile(
            name: "rogue", certificatePEM: try CertificateCoding.encode(rogueCertificate), keyPath: roguePath,
            certificatePathOnDevice: nil)
        let v130 = try await world.server.updates.upload(
            try world.firmware("1.3.0", signed: false), name: "thermostat-1.3.0.bin", kind: .app)
        _ = try await world.server.updates.create(
            CreateUpdateRequest(id: "v1-3-0", fileID: v130.id, signingProfile: "rogue", groups: [DemoWorld.group]))
        let refused = try await waitForJob("v1-3-0", title: "1.3.0", count: devices + 1) { $0.status.isTerminal }
        let v130Runs = try await world.executions("v1-3-0")
        let allRefused = v130Runs.allSatisfy {
            $0.status == .failed && $0.statusDetails == #"{"reason":"0x000000e3: 0x00000000"}"#
        }
        steps.append(
            step(
                "bad signature refused", "\(devices + 1) FAILED (signature check), all stay on 1.1.0",
                "\(v130Runs.filter { $0.status == .failed }.count) FAILED 0x000000e3",
                refused == devices + 1 && allRefused && runningAll("1.1.0"), since: start))

        // 1.4.0 over HTTPS: the job document carries a short-lived signed URL on the service's own port; each device
        // fetches 4 KiB ranges from it, then verifies and boots as for MQTT.
        start = clock.now
        board.say("Deploying 1.4.0 over HTTPS (a fresh signed URL in each job document, 4 KiB ranges) …")
        let v140 = try await world.server.updates.upload(
            try world.firmware("1.4.0", signed: false), name: "thermostat-1.4.0.bin", kind: .app)
        _ = try await world.server.updates.create(
            CreateUpdateRequest(
                id: "v1-4-0", fileID: v140.id, signingProfile: "demo", groups: [DemoWorld.group], protocols: ["HTTP"]))
        let overHTTPS = try await waitForJob("v1-4-0", title: "1.4.0 HTTPS", count: devices + 1) {
            $0.status == .succeeded
        }
        steps.append(
            step(
                "1.4.0 over HTTPS", "\(devices + 1) SUCCEEDED, all run 1.4.0",
                "\(overHTTPS) SUCCEEDED from \(world.server.dataURLs.baseURL ?? "?")/data/…",
                overHTTPS == devices + 1 && runningAll("1.4.0"), since: start))
        return steps
    }

    private func runningAll(_ version: String) -> Bool {
        world.fleet.snapshot.allSatisfy { $0.status.runningVersion == version }
    }

    private func step(
        _ name: String, _ expected: String, _ observed: String, _ ok: Bool, since start: ContinuousClock.Instant
    )
        -> DemoStep
    {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return DemoStep(name: name, expected: expected, observed: observed, ok: ok, seconds: seconds)
    }

    /// Waits until `count` executions of the update satisfy `done`, drawing progress; returns how many do.
    private func waitForJob(
        _ updateID: String, title: String, count: Int, done: @escaping @Sendable (JobExecution) -> Bool
    ) async throws -> Int {
        var satisfied = 0
        try await waitFor(seconds: 90, title: title) { _ in
            false
        } until: {
            satisfied = try await world.executions(updateID).filter(done).count
            return satisfied >= count
        }
        return satisfied
    }

    /// Redraws the board every 200 ms until `fleetCondition` or `until` holds, or `seconds` pass.
    private func waitFor(
        seconds: Int, title: String, _ fleetCondition: ([(thing: String, status: DeviceStatus)]) -> Bool,
        until: () async throws -> Bool = { false }
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let fleet = world.fleet.snapshot
            board.draw(fleet, title: title)
            if fleetCondition(fleet) { return }
            if try await until() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        board.draw(world.fleet.snapshot, title: title + " (timed out)")
    }
}
