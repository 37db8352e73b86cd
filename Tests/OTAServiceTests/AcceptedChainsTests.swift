import CodeSigning
import Foundation
import MQTT
import Synchronization
import TestSupport
import Testing

@testable import OTAService

// The gateway remembers the chains it accepted (AcceptedChains.swift): a device reconnecting with the same
// certificates gets its verdict without a second validation, but never across a registry change, never outside the
// validated certificates' validity, and never for a refusal, a certificate registered without a CA, or a chain
// padded with certificates it does not use.
@Suite(.serialized) struct AcceptedChainsTests {
    typealias World = DeviceTrustPolicyTests.World

    static func trust(_ world: World) throws -> GatewayTrust {
        GatewayTrust(serviceCA: try CertificateCoding.decode(world.service.der))
    }

    static func isRefused(_ verdict: ClientTrustVerdict, because words: String) -> Bool {
        if case .refused(let reason) = verdict { return reason.contains(words) }
        return false
    }

    @Test func aChainAcceptedOnceIsKnownAtTheNextHandshake() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
        #expect(await trust.evaluate(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 1)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        // The key is the whole presented chain: the same leaf with its CA is judged afresh, then known too.
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der, world.service.der]) == nil)
        #expect(await trust.evaluate(chain: [world.serviceDevice.der, world.service.der]) == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 2)
        #expect(trust.knownVerdict(chain: [world.factoryDevice.der]) == nil)
    }

    @Test func aRegistryChangeForgetsEveryAcceptance() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        #expect(await trust.evaluate(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        // A registration binds the certificate to a thing: the remembered "CN names it" verdict must not survive it.
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .active)))
        #expect(trust.rememberedChains == 0)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
        #expect(await trust.evaluate(chain: [world.serviceDevice.der]) == .trusted(boundName: "thing-s"))
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == .trusted(boundName: "thing-s"))
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .revoked)))
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
        #expect(Self.isRefused(await trust.evaluate(chain: [world.serviceDevice.der]), because: "revoked"))
    }

    @Test func aDeactivatedCAsDevicesAreJudgedAgain() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        let factory = CACertificate(
            fingerprint: world.factory.fingerprint, subject: "", pem: world.factory.pem, status: .active, notAfter: 0,
            createdAt: 0)
        trust.apply(.authority(factory))
        trust.apply(.certificate(world.record(world.factoryDevice, thing: "SN-0001", status: .active)))
        #expect(await trust.evaluate(chain: [world.factoryDevice.der]) == .trusted(boundName: "SN-0001"))
        #expect(trust.knownVerdict(chain: [world.factoryDevice.der]) == .trusted(boundName: "SN-0001"))
        var inactive = factory
        inactive.status = .inactive
        trust.apply(.authority(inactive))
        #expect(trust.knownVerdict(chain: [world.factoryDevice.der]) == nil)
        #expect(Self.isRefused(await trust.evaluate(chain: [world.factoryDevice.der]), because: "inactive"))
    }

    @Test func refusalsCertificatesRegisteredWithoutACAAndPaddedChainsAreNotRemembered() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        #expect(Self.isRefused(await trust.evaluate(chain: [world.strangerDevice.der]), because: "not registered"))
        #expect(trust.rememberedChains == 0)
        // Accepted only because nothing chains it to an inactive CA: that rests on more than its own validity.
        trust.apply(.certificate(world.record(world.selfSigned, thing: "thing-x", status: .active)))
        #expect(await trust.evaluate(chain: [world.selfSigned.der]) == .trusted(boundName: "thing-x"))
        #expect(trust.rememberedChains == 0)
        #expect(trust.knownVerdict(chain: [world.selfSigned.der]) == nil)
        // A certificate the chain does not use, or one sent twice: accepted, but every such variant would be an entry.
        let padded = [world.serviceDevice.der, world.stranger.der]
        #expect(await trust.evaluate(chain: padded) == .trusted(boundName: nil))
        let twice = [world.serviceDevice.der, world.service.der, world.service.der]
        #expect(await trust.evaluate(chain: twice) == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 0)
    }

    /// Two flags between a test and a judge it holds up.
    final class Hold: Sendable {
        let entered = Atomic<Bool>(false)
        let released = Atomic<Bool>(false)

        func waitUntilEntered() async { await poll { self.entered.load(ordering: .acquiring) } }
        func waitUntilReleased() async { await poll { self.released.load(ordering: .acquiring) } }

        private func poll(_ done: () -> Bool) async {
            while !done() { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    @Test func aVerdictJudgedAcrossARegistryChangeIsNotRemembered() async throws {
        let world = try await World()
        let hold = Hold()
        let trust = GatewayTrust(serviceCA: try CertificateCoding.decode(world.service.der)) { chain, snapshot, time in
            // The snapshot has been taken: the test changes the trust before the judging goes on.
            hold.entered.store(true, ordering: .releasing)
            await hold.waitUntilReleased()
            return await DeviceTrustPolicy.judge(chain: chain, snapshot: snapshot, at: time)
        }
        async let verdict = trust.evaluate(chain: [world.serviceDevice.der])
        await hold.waitUntilEntered()
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .revoked)))
        hold.released.store(true, ordering: .releasing)
        // Judged against the snapshot from before the revocation (the handshake began before it): accepted, but
        // that acceptance must not outlive the revocation.
        #expect(await verdict == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 0)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
    }

    @Test func aSignatureTwinOfARevokedCertificateIsRefused() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        let twin = try ECDSATwin.of(world.serviceDevice.der)
        #expect(twin != world.serviceDevice.der)
        // The twin verifies as the original does: without a registration, both are the service CA's.
        #expect(await trust.evaluate(chain: [twin]) == .trusted(boundName: nil))
        // A registration or a revocation reaches the twin too: it is the same signed certificate.
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .active)))
        #expect(await trust.evaluate(chain: [twin]) == .trusted(boundName: "thing-s"))
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .revoked)))
        #expect(Self.isRefused(await trust.evaluate(chain: [twin]), because: "revoked"))
        #expect(Self.isRefused(await trust.evaluate(chain: [world.serviceDevice.der]), because: "revoked"))
    }

    @Test func loadingTheStoreForgetsAcceptancesAndKeepsAChangeMadeMeanwhile() async throws {
        let world = try await World()
        let directory = try TemporaryDirectory("accepted-chains")
        let base = try SQLiteStore(path: directory.path("store.sqlite"))
        try await base.prepare()
        let active = world.record(world.serviceDevice, thing: "thing-s", status: .active)
        try await base.write { writer in
            try writer.save(Thing(name: "thing-s", createdAt: 0))
            try writer.save(active)
        }
        let trust = try Self.trust(world)
        // The first read returns what the store held before a revocation that commits, and reaches the gateway,
        // while the read is under way.
        var revoked = active
        revoked.status = .revoked
        let store = ReadHookStore(
            base: base,
            after: { [revoked] read in
                guard read == 1 else { return }
                try await base.write { try $0.save(revoked) }
                trust.apply(.certificate(revoked))
            })
        #expect(await trust.evaluate(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 1)
        try await trust.load(from: store)
        #expect(store.reads.count == 2, "read again: a change came in during the first read")
        #expect(trust.rememberedChains == 0)
        #expect(Self.isRefused(await trust.evaluate(chain: [world.serviceDevice.der]), because: "revoked"))
        await base.close()
    }

    @Test func aRegistryThatChangesDuringEveryReadIsNotLoadedOver() async throws {
        let world = try await World()
        let directory = try TemporaryDirectory("accepted-chains")
        let base = try SQLiteStore(path: directory.path("store.sqlite"))
        try await base.prepare()
        let trust = try Self.trust(world)
        let revoked = world.record(world.serviceDevice, thing: "thing-s", status: .revoked)
        // Every read is overtaken by a change (the same revocation, applied again: still a change of generation).
        let store = ReadHookStore(base: base, after: { _ in trust.apply(.certificate(revoked)) })
        await #expect(throws: OTAServiceError.self) { try await trust.load(from: store) }
        #expect(store.reads.count == GatewayTrust.loadAttempts)
        // What was applied meanwhile stands: the store (empty) was never loaded over it.
        #expect(Self.isRefused(await trust.evaluate(chain: [world.serviceDevice.der]), because: "revoked"))
        await base.close()
    }

    @Test func anAcceptanceIsReusableOnlyWhileEveryValidatedCertificateIsValid() async throws {
        let world = try await World()
        // A leaf that outlives its CA: the CA's end bounds the span.
        let pki = try OpenSSLPKI(directory: world.directory.path("pki"))
        let longLived = try await pki.make(
            "long", commonName: "thing-l", profile: .clientDevice, signedBy: world.service, days: 400)
        let now = Date()
        let (decision, reusable) = await DeviceTrustPolicy.judge(
            chain: [longLived.der], snapshot: try world.snapshot(), at: now)
        #expect(decision == .accepted(thing: nil, via: .serviceCA))
        let leaf = try CertificateCoding.decode(longLived.der)
        let root = try CertificateCoding.decode(world.service.der)
        #expect(root.notValidAfter < leaf.notValidAfter)
        #expect(reusable == max(leaf.notValidBefore, root.notValidBefore)...root.notValidAfter)
        #expect(reusable?.contains(now) == true)
    }

    @Test func anEntryCountsOnlyInItsGenerationAndWithinItsValidity() {
        var chains = AcceptedChains()
        let key = AcceptedChains.Key([[1, 2, 3]])
        let start = Date(timeIntervalSince1970: 1_000_000)
        let end = start.addingTimeInterval(3600)
        let acceptance = AcceptedChains.Acceptance(boundName: "t", validity: start...end)
        chains.remember(key, acceptance, judgedIn: chains.generation)
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(60))?.boundName == "t")
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(-1)) == nil)
        #expect(chains.acceptance(of: key, at: end.addingTimeInterval(1)) == nil)
        // An evaluation that began before a registry change must not leave its verdict behind.
        let before = chains.generation
        chains.forgetAll()
        chains.remember(key, acceptance, judgedIn: before)
        #expect(chains.count == 0)
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(60)) == nil)
        // Certificates are length-prefixed in the key: moving a byte from one to the next is another chain.
        #expect(AcceptedChains.Key([[1, 2], [3]]) != AcceptedChains.Key([[1], [2, 3]]))
    }
}
