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
        await judge(chain: chain, snapshot: snapshot, at: time).decision
    }

    /// The decision, and for an acceptance through a validated chain (service CA, registered CA) the span of time
    /// over which the same chain gets the same decision from the same snapshot: every certificate of the validated
    /// chain is valid throughout it, and nothing else in the decision depends on the time. Nil for refusals and for
    /// a certificate registered without a CA, whose acceptance also rests on no chain to an inactive CA existing.
    static func judge(chain: [[UInt8]], snapshot: DeviceTrustSnapshot, at time: Date) async
        -> (decision: DeviceTrustDecision, reusableDuring: ClosedRange<Date>?)
    {
        guard let leafDER = chain.first else { return (.refused("no client certificate"), nil) }
        let leaf: Certificate
        let intermediates: [Certificate]
        do {
            leaf = try Certificate(derEncoded: leafDER)
            intermediates = try chain.dropFirst().map { try Certificate(derEncoded: $0) }
        } catch {
            return (.refused("the client presented a certificate that is not X.509 DER: \(error)"), nil)
        }
        let presented = CertificateStore(intermediates)
        let fingerprint = sha256Hex(leafDER)
        // Only a refusal names the certificate: formatting its subject costs every accepted handshake otherwise.
        var name: String { "certificate \(fingerprint) (\(leaf.subject))" }
        let binding = snapshot.binding(of: leaf, fingerprint: fingerprint)
        if binding?.status == .revoked { return (.refused("\(name) is revoked"), nil) }
        if let problem = clientAuthProblem(leaf, at: time) { return (.refused("\(name) \(problem)"), nil) }
        // A registration linked to a registered CA follows that CA's status, whatever chain the client presents:
        // leaving an intermediate out must not turn a deactivated CA's device into a "registered without CA" one.
        if let link = binding?.issuerCA, !snapshot.isActive(authority: link) {
            return (.refused("\(name) is issued by CA \(link), which is inactive"), nil)
        }

        if let chain = await validatedChain(of: leaf, presented, among: [snapshot.serviceCA], at: time) {
            return (
                .accepted(thing: binding?.thing, via: .serviceCA), reusableSpan(of: chain, presented: intermediates)
            )
        }
        if let chain = await validatedChain(of: leaf, presented, among: snapshot.authorities(active: true), at: time) {
            let authority = snapshot.fingerprint(ofAuthority: chain.root) ?? "?"
            guard let binding else {
                let reason =
                    "\(name) chains to registered CA \(authority) but is not registered to a thing "
                    + "(ota things register-certificate THING CERT.pem)"
                return (.refused(reason), nil)
            }
            let reusable = reusableSpan(of: chain, presented: intermediates)
            return (.accepted(thing: binding.thing, via: .registeredCA(authority)), reusable)
        }
        guard let binding else {
            return (
                .refused("\(name) is not from the service CA or an active registered CA, and is not registered"), nil
            )
        }
        if let chain = await validatedChain(of: leaf, presented, among: snapshot.authorities(active: false), at: time) {
            let authority = snapshot.fingerprint(ofAuthority: chain.root) ?? "?"
            return (.refused("\(name) is issued by CA \(authority), which is inactive"), nil)
        }
        return (.accepted(thing: binding.thing, via: .registeredCertificate), nil)
    }

    /// When every certificate of `chain` is valid (it is at the time it was validated, so the range is not empty);
    /// nil when the client presented certificates the chain does not use, or one twice: each such variant would be
    /// remembered on its own, and one accepted key could fill the memory of acceptances with them.
    private static func reusableSpan(
        of chain: ValidatedCertificateChain, presented: [Certificate]
    ) -> ClosedRange<Date>? {
        guard presented.count < chain.count, presented.allSatisfy({ chain.contains($0) }) else { return nil }
        let from = chain.map(\.notValidBefore).max() ?? .distantPast
        let until = chain.map(\.notValidAfter).min() ?? .distantFuture
        return from...max(from, until)
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
        await validatedChain(of: leaf, intermediates, among: roots, at: time)?.root
    }

    /// The chain `root(of:_:among:at:)` found, leaf to root.
    private static func validatedChain(
        of leaf: Certificate, _ intermediates: CertificateStore, among roots: [Certificate], at time: Date
    ) async -> ValidatedCertificateChain? {
        guard !roots.isEmpty else { return nil }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            LeafUsageChecked()
        }
        guard case .validCertificate(let chain) = await verifier.validate(leaf: leaf, intermediates: intermediates)
        else { return nil }
        return chain
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
