import CodeSigning
import Foundation
import OTAService
import TestSupport
import Testing

// The gateway's certificate rule as a pure function: openssl-made chains, a snapshot, a time; no sockets.
@Suite(.serialized) struct DeviceTrustPolicyTests {
    /// A service CA, a factory CA (registered) with a device and an intermediate, a stranger's CA (not registered)
    /// with a device, a self-signed device, a device certificate for servers only.
    final class World: Sendable {
        let directory: TemporaryDirectory
        let service, serviceDevice: OpenSSLPKI.Issued
        let factory, factoryDevice, intermediate, intermediateDevice: OpenSSLPKI.Issued
        let stranger, strangerDevice, selfSigned, serverOnly: OpenSSLPKI.Issued

        init() async throws {
            directory = try TemporaryDirectory("trust-policy")
            let pki = try OpenSSLPKI(directory: directory.path("pki"))
            service = try await pki.make("service", commonName: "Service CA", profile: .authority)
            serviceDevice = try await pki.make(
                "svc-dev", commonName: "thing-s", profile: .clientDevice, signedBy: service)
            factory = try await pki.make("factory", commonName: "Factory CA", profile: .authority)
            factoryDevice = try await pki.make(
                "f-dev", commonName: "SN-0001", profile: .clientDevice, signedBy: factory)
            intermediate = try await pki.make("int", commonName: "Line 2 CA", profile: .authority, signedBy: factory)
            intermediateDevice = try await pki.make(
                "i-dev", commonName: "SN-0002", profile: .clientDevice, signedBy: intermediate)
            stranger = try await pki.make("stranger", commonName: "Stranger CA", profile: .authority)
            strangerDevice = try await pki.make(
                "s-dev", commonName: "thing-a", profile: .clientDevice, signedBy: stranger)
            selfSigned = try await pki.make("self", commonName: "whatever", profile: .clientDevice)
            serverOnly = try await pki.make("srv", commonName: "thing-a", profile: .serverOnly, signedBy: service)
        }

        func snapshot(
            registered: [(OpenSSLPKI.Issued, String)] = [], revoked: [OpenSSLPKI.Issued] = [],
            authorities: [(OpenSSLPKI.Issued, CACertificateStatus)] = []
        ) throws -> DeviceTrustSnapshot {
            DeviceTrustSnapshot(
                serviceCA: try CertificateCoding.decode(service.der),
                authorities: authorities.map { issued, status in
                    CACertificate(
                        fingerprint: issued.fingerprint, subject: "", pem: issued.pem, status: status, notAfter: 0,
                        createdAt: 0)
                },
                certificates: registered.map { record($0.0, thing: $0.1, status: .active) }
                    + revoked.map { record($0, thing: "thing-r", status: .revoked) })
        }

        func record(_ issued: OpenSSLPKI.Issued, thing: String, status: CertificateStatus) -> DeviceCertificate {
            DeviceCertificate(
                fingerprint: issued.fingerprint, thingName: thing, pem: issued.pem, status: status, notAfter: 0,
                createdAt: 0)
        }
    }

    static func decide(_ chain: [OpenSSLPKI.Issued], _ snapshot: DeviceTrustSnapshot, at time: Date = Date()) async
        -> DeviceTrustDecision
    {
        await DeviceTrustPolicy.evaluate(chain: chain.map(\.der), snapshot: snapshot, at: time)
    }

    static func refusal(_ decision: DeviceTrustDecision) -> String {
        if case .refused(let reason) = decision { return reason }
        return ""
    }

    @Test func serviceCACertificatesNeedNoRegistrationButARegistrationNamesTheThing() async throws {
        let world = try await World()
        #expect(
            await Self.decide([world.serviceDevice], try world.snapshot()) == .accepted(thing: nil, via: .serviceCA))
        let registered = try world.snapshot(registered: [(world.serviceDevice, "thing-s")])
        #expect(await Self.decide([world.serviceDevice], registered) == .accepted(thing: "thing-s", via: .serviceCA))
    }

    @Test func aRegisteredCAsDeviceMustBeRegisteredToAThing() async throws {
        let world = try await World()
        let caOnly = try world.snapshot(authorities: [(world.factory, .active)])
        #expect(Self.refusal(await Self.decide([world.factoryDevice], caOnly)).contains("not registered to a thing"))

        let both = try world.snapshot(
            registered: [(world.factoryDevice, "thermostat-1")], authorities: [(world.factory, .active)])
        #expect(
            await Self.decide([world.factoryDevice], both)
                == .accepted(thing: "thermostat-1", via: .registeredCA(world.factory.fingerprint)))
    }

    @Test func anIntermediateTheDevicePresentsLeadsToTheRegisteredRoot() async throws {
        let world = try await World()
        let snapshot = try world.snapshot(
            registered: [(world.intermediateDevice, "thermostat-2")], authorities: [(world.factory, .active)])
        #expect(
            await Self.decide([world.intermediateDevice, world.intermediate], snapshot)
                == .accepted(thing: "thermostat-2", via: .registeredCA(world.factory.fingerprint)))
    }

    @Test func anInactiveCATurnsAwayItsDevicesEvenRegisteredOnes() async throws {
        let world = try await World()
        let snapshot = try world.snapshot(
            registered: [(world.factoryDevice, "thermostat-1")], authorities: [(world.factory, .inactive)])
        #expect(Self.refusal(await Self.decide([world.factoryDevice], snapshot)).contains("inactive"))
    }

    /// A registration linked to a registered CA follows that CA, even when the device leaves its intermediate out
    /// (or resumes a TLS session, which remembers only the leaf): it is not a "registered without CA" certificate.
    @Test func aLinkedRegistrationFollowsItsCAWhateverChainTheDevicePresents() async throws {
        let world = try await World()
        var linked = world.record(world.intermediateDevice, thing: "thermostat-2", status: .active)
        linked.issuerCA = world.factory.fingerprint
        func snapshot(_ status: CACertificateStatus) throws -> DeviceTrustSnapshot {
            DeviceTrustSnapshot(
                serviceCA: try CertificateCoding.decode(world.service.der),
                authorities: [
                    CACertificate(
                        fingerprint: world.factory.fingerprint, subject: "", pem: world.factory.pem, status: status,
                        notAfter: 0, createdAt: 0)
                ],
                certificates: [linked])
        }
        let inactive = try snapshot(.inactive)
        #expect(Self.refusal(await Self.decide([world.intermediateDevice], inactive)).contains("inactive"))
        #expect(
            Self.refusal(await Self.decide([world.intermediateDevice, world.intermediate], inactive))
                .contains("inactive"))
        #expect(
            await Self.decide([world.intermediateDevice], try snapshot(.active))
                == .accepted(thing: "thermostat-2", via: .registeredCertificate))
    }

    @Test func aRegisteredCertificateWithoutCAIsTrustedAsItIs() async throws {
        let world = try await World()
        #expect(Self.refusal(await Self.decide([world.selfSigned], try world.snapshot())).contains("is not registered"))
        let snapshot = try world.snapshot(registered: [(world.selfSigned, "selfie")])
        #expect(
            await Self.decide([world.selfSigned], snapshot) == .accepted(thing: "selfie", via: .registeredCertificate))
    }

    @Test func anUnregisteredForeignCAIsRefusedWhateverTheCNSays() async throws {
        let world = try await World()
        let snapshot = try world.snapshot(authorities: [(world.factory, .active)])
        #expect(
            Self.refusal(await Self.decide([world.strangerDevice, world.stranger], snapshot))
                .contains("not from the service CA or an active registered CA"))
    }

    @Test func revocationAppliesOnEveryPath() async throws {
        let world = try await World()
        let snapshot = try world.snapshot(
            revoked: [world.serviceDevice, world.factoryDevice, world.selfSigned],
            authorities: [(world.factory, .active)])
        for device in [world.serviceDevice, world.factoryDevice, world.selfSigned] {
            #expect(Self.refusal(await Self.decide([device], snapshot)).contains("is revoked"))
        }
    }

    @Test func validityPeriodAndClientUsageAreChecked() async throws {
        let world = try await World()
        let snapshot = try world.snapshot(registered: [(world.selfSigned, "selfie")])
        let later = Date().addingTimeInterval(60 * 86_400)
        #expect(Self.refusal(await Self.decide([world.selfSigned], snapshot, at: later)).contains("expired"))
        #expect(Self.refusal(await Self.decide([world.serviceDevice], snapshot, at: later)).contains("expired"))
        let earlier = Date().addingTimeInterval(-86_400)
        #expect(Self.refusal(await Self.decide([world.selfSigned], snapshot, at: earlier)).contains("not valid before"))
        #expect(Self.refusal(await Self.decide([world.serverOnly], snapshot)).contains("clientAuth"))
    }

    @Test func nothingOrGarbageIsRefused() async throws {
        let world = try await World()
        let snapshot = try world.snapshot()
        #expect(Self.refusal(await DeviceTrustPolicy.evaluate(chain: [], snapshot: snapshot, at: Date())) != "")
        let garbage = await DeviceTrustPolicy.evaluate(chain: [[0x30, 0x03, 1, 2, 3]], snapshot: snapshot, at: Date())
        #expect(Self.refusal(garbage).contains("not X.509"))
    }
}
