import CodeSigning
import Foundation
import MQTT
import TestSupport
import Testing

@testable import OTAService

// The gateway remembers the chains it accepted (AcceptedChains.swift): a device reconnecting with the same
// certificates gets its verdict without a second validation, but never across a registry change, never outside the
// validated certificates' validity, and never for a refusal or a certificate registered without a CA.
@Suite(.serialized) struct AcceptedChainsTests {
    typealias World = DeviceTrustPolicyTests.World

    static func trust(_ world: World) throws -> GatewayTrust {
        GatewayTrust(serviceCA: try CertificateCoding.decode(world.service.der))
    }

    @Test func aChainAcceptedOnceIsKnownAtTheNextHandshake() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
        #expect(await trust.evaluate(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        #expect(trust.rememberedChains == 1)
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == .trusted(boundName: nil))
        // The key is the whole presented chain: the same leaf with an extra certificate is judged afresh.
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der, world.service.der]) == nil)
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
        // A revocation: refused at once, from memory or not.
        trust.apply(.certificate(world.record(world.serviceDevice, thing: "thing-s", status: .revoked)))
        #expect(trust.knownVerdict(chain: [world.serviceDevice.der]) == nil)
        guard case .refused(let reason) = await trust.evaluate(chain: [world.serviceDevice.der]) else {
            Issue.record("a revoked certificate was accepted")
            return
        }
        #expect(reason.contains("revoked"))
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
        #expect(await trust.evaluate(chain: [world.factoryDevice.der]) != .trusted(boundName: "SN-0001"))
    }

    @Test func refusalsAndCertificatesRegisteredWithoutACAAreNotRemembered() async throws {
        let world = try await World()
        let trust = try Self.trust(world)
        #expect(await trust.evaluate(chain: [world.strangerDevice.der]) != .trusted(boundName: nil))
        #expect(trust.rememberedChains == 0)
        // Accepted only because nothing chains it to an inactive CA: that rests on more than its own validity.
        trust.apply(.certificate(world.record(world.selfSigned, thing: "thing-x", status: .active)))
        #expect(await trust.evaluate(chain: [world.selfSigned.der]) == .trusted(boundName: "thing-x"))
        #expect(trust.rememberedChains == 0)
        #expect(trust.knownVerdict(chain: [world.selfSigned.der]) == nil)
    }

    @Test func anAcceptanceIsReusableOnlyWhileEveryValidatedCertificateIsValid() async throws {
        let world = try await World()
        let snapshot = try world.snapshot()
        let now = Date()
        let (decision, reusable) = await DeviceTrustPolicy.judge(
            chain: [world.serviceDevice.der], snapshot: snapshot, at: now)
        #expect(decision == .accepted(thing: nil, via: .serviceCA))
        let leaf = try CertificateCoding.decode(world.serviceDevice.der)
        let root = try CertificateCoding.decode(world.service.der)
        let expected =
            max(leaf.notValidBefore, root.notValidBefore)...min(leaf.notValidAfter, root.notValidAfter)
        #expect(reusable == expected)
        #expect(reusable?.contains(now) == true)
    }

    @Test func anEntryCountsOnlyInItsGenerationAndWithinItsValidity() {
        var chains = AcceptedChains()
        let key = AcceptedChains.Key([[1, 2, 3]])
        let start = Date(timeIntervalSince1970: 1_000_000)
        let end = start.addingTimeInterval(3600)
        chains.remember(key, boundName: "t", during: start...end, judgedIn: chains.generation)
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(60))?.boundName == "t")
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(-1)) == nil)
        #expect(chains.acceptance(of: key, at: end.addingTimeInterval(1)) == nil)
        // An evaluation that began before a registry change must not leave its verdict behind.
        let before = chains.generation
        chains.forgetAll()
        chains.remember(key, boundName: "t", during: start...end, judgedIn: before)
        #expect(chains.count == 0)
        #expect(chains.acceptance(of: key, at: start.addingTimeInterval(60)) == nil)
        // Certificates are length-prefixed in the key: moving a byte from one to the next is another chain.
        #expect(AcceptedChains.Key([[1, 2], [3]]) != AcceptedChains.Key([[1], [2, 3]]))
    }
}
