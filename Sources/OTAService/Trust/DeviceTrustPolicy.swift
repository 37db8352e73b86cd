import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

// The rule for client certificates at the device gateway, as a pure function of the presented chain, a trust
// snapshot and the time (so tests need no sockets). A certificate is accepted when it is not revoked, is valid
// now and fit for TLS client authentication, and
//   1. chains to the service CA (the thing is its registration's, else its CN: our CA only issues CN = thing), or
//   2. chains to an active registered CA and is itself registered to a thing (a CA a module maker shares between
//      customers must not let a stranger's device in by naming one of our things in its CN), or
//   3. is itself registered and active (AWS's "without CA"), unless it chains to a CA registered and deactivated.
// Anything that cannot be parsed or checked is refused.

public enum DeviceTrustDecision: Sendable, Equatable {
    /// `thing` is the registration's thing; nil only for an unregistered service-CA certificate (its CN names it).
    case accepted(thing: String?, via: TrustPath)
    case refused(String)
}

public enum TrustPath: Sendable, Equatable {
    case serviceCA
    /// The registered CA's fingerprint.
    case registeredCA(String)
    case registeredCertificate
}

public enum DeviceTrustPolicy {
    public static func evaluate(chain: [[UInt8]], snapshot: DeviceTrustSnapshot, at time: Date) async
        -> DeviceTrustDecision
    {
        guard let leafDER = chain.first else { return .refused("no client certificate") }
        let leaf: Certificate
        let presented: CertificateStore
        do {
            leaf = try Certificate(derEncoded: leafDER)
            presented = CertificateStore(try chain.dropFirst().map { try Certificate(derEncoded: $0) })
        } catch {
            return .refused("the client presented a certificate that is not X.509 DER: \(error)")
        }
        let fingerprint = sha256Hex(leafDER)
        // Only a refusal names the certificate: formatting its subject costs every accepted handshake otherwise.
        var name: String { "certificate \(fingerprint) (\(leaf.subject))" }
        let binding = snapshot.certificates[fingerprint]
        if binding?.status == .revoked { return .refused("\(name) is revoked") }
        if let problem = clientAuthProblem(leaf, at: time) { return .refused("\(name) \(problem)") }
        // A registration linked to a registered CA follows that CA's status, whatever chain the client presents:
        // leaving an intermediate out must not turn a deactivated CA's device into a "registered without CA" one.
        if let link = binding?.issuerCA, !snapshot.isActive(authority: link) {
            return .refused("\(name) is issued by CA \(link), which is inactive")
        }

        if await root(of: leaf, presented, among: [snapshot.serviceCA], at: time) != nil {
            return .accepted(thing: binding?.thing, via: .serviceCA)
        }
        if let root = await root(of: leaf, presented, among: snapshot.authorities(active: true), at: time) {
            let authority = snapshot.fingerprint(ofAuthority: root) ?? "?"
            guard let binding else {
                return .refused(
                    "\(name) chains to registered CA \(authority) but is not registered to a thing "
                        + "(ota things register-certificate THING CERT.pem)")
            }
            return .accepted(thing: binding.thing, via: .registeredCA(authority))
        }
        guard let binding else {
            return .refused("\(name) is not from the service CA or an active registered CA, and is not registered")
        }
        if let root = await root(of: leaf, presented, among: snapshot.authorities(active: false), at: time) {
            return .refused(
                "\(name) is issued by CA \(snapshot.fingerprint(ofAuthority: root) ?? "?"), which is inactive")
        }
        return .accepted(thing: binding.thing, via: .registeredCertificate)
    }

    /// Why the leaf cannot authenticate a TLS client at `time`, or nil when it can.
    static func clientAuthProblem(_ leaf: Certificate, at time: Date) -> String? {
        if time < leaf.notValidBefore { return "is not valid before \(leaf.notValidBefore)" }
        if time > leaf.notValidAfter { return "expired on \(leaf.notValidAfter)" }
        do {
            if let usages = try leaf.extensions.extendedKeyUsage,
                !usages.contains(.clientAuth), !usages.contains(.any)
            {
                return "is not for TLS client authentication (its extendedKeyUsage lacks clientAuth)"
            }
            if let usage = try leaf.extensions.keyUsage, !usage.digitalSignature {
                return "cannot sign a TLS handshake (its keyUsage lacks digitalSignature)"
            }
        } catch {
            return "has a malformed key usage extension: \(error)"
        }
        return nil
    }

    /// The root of a chain from `leaf` through `intermediates` to one of `roots`, valid at `time` (RFC 5280:
    /// signatures, validity periods, basic constraints, name constraints); nil when there is none.
    static func root(
        of leaf: Certificate, _ intermediates: CertificateStore, among roots: [Certificate], at time: Date
    ) async -> Certificate? {
        guard !roots.isEmpty else { return nil }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            LeafUsageChecked()
        }
        guard case .validCertificate(let chain) = await verifier.validate(leaf: leaf, intermediates: intermediates)
        else { return nil }
        return chain.root
    }
}

/// The leaf's extendedKeyUsage is checked by `clientAuthProblem` before any chain is built; this tells the
/// verifier so, or it would refuse every leaf that marks the extension critical.
struct LeafUsageChecked: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        .meetsPolicy
    }
}
