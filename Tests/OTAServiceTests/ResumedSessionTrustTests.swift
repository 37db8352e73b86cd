import Foundation
import OTAService
import TestSupport
import Testing

// A resumed TLS session skips the handshake's certificate callback: ClientTrustGate judges the certificate the
// session remembers against the trust of the moment. openssl s_client saves a session after a full handshake
// (`-sess_out`) and resumes it later (`-sess_in`), sending an MQTT CONNECT and DISCONNECT once connected: a
// certificate revoked, or a CA deactivated, since the first handshake gets no CONNACK on resumption, and a
// certificate still trusted resumes and connects. Each resumption is checked to be one ("Reused"): a full
// handshake would have asked the callback, which proves nothing about the gate.
@Suite(.serialized) struct ResumedSessionTrustTests {
    /// How the client keeps its session: a TLS 1.3 ticket, a TLS 1.2 ticket, a TLS 1.2 session id (server cache).
    enum Resumption: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case tls13Ticket = "TLS 1.3 ticket"
        case tls12Ticket = "TLS 1.2 ticket"
        case tls12SessionID = "TLS 1.2 session id"

        var testDescription: String { rawValue }
        var version: String { self == .tls13Ticket ? "TLSv1.3" : "TLSv1.2" }
        var options: [String] {
            switch self {
            case .tls13Ticket: return ["-tls1_3"]
            case .tls12Ticket: return ["-tls1_2"]
            case .tls12SessionID: return ["-tls1_2", "-no_ticket"]
            }
        }
    }

    /// One s_client run: whether its handshake resumed, and what MQTT answered.
    struct Connection {
        let result: ExternalTools.Result
        let output: [UInt8]

        /// "New, TLSv1.x, Cipher is …" or "Reused, TLSv1.x, Cipher is …", as s_client prints it.
        var handshake: Substring? {
            result.stdout.split(separator: "\n").first { $0.hasPrefix("New, ") || $0.hasPrefix("Reused, ") }
        }
        var resumed: Bool { handshake?.hasPrefix("Reused, ") == true }
        var isNew: Bool { handshake?.hasPrefix("New, ") == true }
        /// CONNACK, session not present, return code 0.
        var accepted: Bool { output.containsBytes([0x20, 0x02, 0x00, 0x00]) }
        /// Any CONNACK (fixed header 0x20, remaining length 2).
        var answered: Bool { output.containsBytes([0x20, 0x02]) }
        var transcript: String { "stdout: \(result.stdout)\nstderr: \(result.stderr)" }
    }

    /// An MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s) for `clientID`, then a DISCONNECT: the server answers
    /// the CONNECT and closes, which ends s_client (after the TLS 1.3 tickets, sent before any application data).
    static func connectThenDisconnect(_ clientID: String) -> [UInt8] {
        let id = Array(clientID.utf8)
        let variableHeader: [UInt8] = [0x00, 0x04] + Array("MQTT".utf8) + [0x04, 0x02, 0x00, 0x3C]
        let payload = [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        let remaining = variableHeader.count + payload.count
        precondition(remaining < 128, "one-byte remaining length")
        return [0x10, UInt8(remaining)] + variableHeader + payload + [0xE0, 0x00]
    }

    /// s_client connects with `device`'s certificate, resuming the session in `sessionIn` when given, and saves the
    /// session the server gives to `sessionOut`.
    static func connect(
        _ setup: BringYourOwnCertificateTests.Setup, _ device: OpenSSLPKI.Issued, as clientID: String,
        _ resumption: Resumption, sessionIn: String? = nil, sessionOut: String
    ) async throws -> Connection {
        try? FileManager.default.removeItem(atPath: sessionOut)
        var arguments = [
            "20", "openssl", "s_client", "-connect", "127.0.0.1:\(setup.service.port)",
            "-CAfile", setup.service.server.pki.caCertificatePath, "-cert", device.certificatePath,
            "-key", device.keyPath, "-ign_eof", "-nocommands", "-sess_out", sessionOut,
        ]
        arguments += resumption.options
        if let sessionIn { arguments += ["-sess_in", sessionIn] }
        let result = try await ExternalTools.run("timeout", arguments, stdin: Data(connectThenDisconnect(clientID)))
        #expect(result.status != 124, "s_client was still connected after 20 s:\n\(result.stdout)")
        return Connection(result: result, output: Array(result.stdout.utf8))
    }

    /// A full handshake that connects and leaves a session to resume in `session`.
    static func firstConnection(
        _ setup: BringYourOwnCertificateTests.Setup, _ device: OpenSSLPKI.Issued, as clientID: String,
        _ resumption: Resumption, session: String
    ) async throws {
        let first = try await connect(setup, device, as: clientID, resumption, sessionOut: session)
        #expect(first.isNew, "a full handshake first\n\(first.transcript)")
        #expect(first.handshake?.contains(resumption.version) == true, "\(first.transcript)")
        #expect(first.accepted, "\(clientID) connects with its certificate\n\(first.transcript)")
        #expect(
            FileManager.default.fileExists(atPath: session),
            "the server gave \(clientID) no session to resume (\(resumption.rawValue))\n\(first.transcript)")
    }

    /// Resumes `session`: the handshake must be a resumption, whatever MQTT answers next.
    static func resume(
        _ setup: BringYourOwnCertificateTests.Setup, _ device: OpenSSLPKI.Issued, as clientID: String,
        _ resumption: Resumption, session: String
    ) async throws -> Connection {
        let resumed = try await connect(
            setup, device, as: clientID, resumption, sessionIn: session, sessionOut: session + ".next")
        try #require(
            resumed.resumed,
            """
            \(clientID)'s \(resumption.rawValue) session was not resumed (a full handshake asks the verification \
            callback, so it would not test the gate)
            \(resumed.transcript)
            """)
        #expect(resumed.handshake?.contains(resumption.version) == true, "\(resumed.transcript)")
        return resumed
    }

    @Test(arguments: Resumption.allCases)
    func aResumedSessionIsJudgedAgainstTheCurrentTrust(_ resumption: Resumption) async throws {
        let setup = try await BringYourOwnCertificateTests.Setup()
        defer { Task { await setup.shutdown() } }
        let factory = try await setup.pki.make("factory", commonName: "Factory CA", profile: .authority)
        let revoked = try await setup.pki.make(
            "sn-0001", commonName: "SN-0001", profile: .clientDevice, signedBy: factory)
        let kept = try await setup.pki.make("sn-0002", commonName: "SN-0002", profile: .clientDevice, signedBy: factory)
        let selfSigned = try await setup.pki.make("selfie", commonName: "selfie", profile: .clientDevice)
        #expect(try await setup.post("/api/v1/ca-certificates", ["certificatePEM": factory.pem]).status == 201)
        let devices = [("thermostat-1", revoked), ("thermostat-2", kept), ("selfie-1", selfSigned)]
        for (thing, device) in devices {
            _ = try await setup.service.server.registry.createThing(thing)
            let bound = try await setup.post(
                "/api/v1/things/\(thing)/certificates/register", ["certificatePEM": device.pem])
            #expect(bound.status == 201, "\(bound.text)")
        }
        let sessions = setup.pki.directory
        for (thing, device) in devices {
            try await Self.firstConnection(
                setup, device, as: thing, resumption, session: "\(sessions)/\(thing).session")
        }

        // Revoked since the first handshake: the gate refuses the resumed session before MQTT sees the CONNECT.
        #expect(try await setup.post("/api/v1/certificates/\(revoked.fingerprint)/revoke").status == 200)
        let afterRevocation = try await Self.resume(
            setup, revoked, as: "thermostat-1", resumption, session: "\(sessions)/thermostat-1.session")
        #expect(!afterRevocation.accepted, "a revoked certificate connects\n\(afterRevocation.transcript)")
        #expect(!afterRevocation.answered, "the gate closes before any CONNACK\n\(afterRevocation.transcript)")
        let stillTrusted = try await Self.resume(
            setup, kept, as: "thermostat-2", resumption, session: "\(sessions)/thermostat-2.session")
        #expect(stillTrusted.accepted, "a trusted certificate's resumed session connects\n\(stillTrusted.transcript)")

        // Its CA deactivated since: refused too, while a certificate registered without a CA still resumes.
        let deactivated = try await setup.post("/api/v1/ca-certificates/\(factory.fingerprint)/deactivate")
        #expect(deactivated.status == 200, "\(deactivated.text)")
        let afterDeactivation = try await Self.resume(
            setup, kept, as: "thermostat-2", resumption, session: "\(sessions)/thermostat-2.session")
        #expect(!afterDeactivation.accepted, "an inactive CA's device connects\n\(afterDeactivation.transcript)")
        #expect(!afterDeactivation.answered, "the gate closes before any CONNACK\n\(afterDeactivation.transcript)")
        let withoutCA = try await Self.resume(
            setup, selfSigned, as: "selfie-1", resumption, session: "\(sessions)/selfie-1.session")
        #expect(withoutCA.accepted, "\(withoutCA.transcript)")
    }
}

extension Array where Element == UInt8 {
    fileprivate func containsBytes(_ bytes: [UInt8]) -> Bool {
        guard count >= bytes.count else { return false }
        return (0...(count - bytes.count)).contains { self[$0..<($0 + bytes.count)].elementsEqual(bytes) }
    }
}
