import CodeSigning
import Crypto
import Foundation
import OTAWire
import SwiftASN1
import X509

// Things, groups, device certificates and registered CAs. Membership changes are reported to the job engine so
// continuous jobs follow their groups; certificate and CA changes to `trustChanged` (the gateway's trust) once
// committed, so they apply from the next TLS handshake without a restart.

public struct Registry: Sendable {
    let store: any OTAStore
    let engine: JobEngine
    let trustChanged: @Sendable (TrustChange) -> Void

    public init(
        store: any OTAStore, engine: JobEngine, trustChanged: @escaping @Sendable (TrustChange) -> Void = { _ in }
    ) {
        self.store = store
        self.engine = engine
        self.trustChanged = trustChanged
    }

    public func createThing(_ name: String, attributes: [String: String] = [:]) async throws -> Thing {
        guard Names.isThingName(name) else {
            throw OTAServiceError.invalidRequest("thing name '\(name)' must be 1–128 of a-z A-Z 0-9 : _ -")
        }
        try Self.validate(attributes)
        let thing = Thing(name: name, attributes: attributes, createdAt: engine.now())
        let after = try await store.write { writer -> Set<String> in
            guard try writer.thing(named: name) == nil else { throw OTAServiceError.conflict("thing \(name) exists") }
            try writer.save(thing)
            return try Self.groups(of: thing, in: writer)
        }
        try await engine.membershipChanged(thing: name, before: [], after: after)
        return thing
    }

    public func setAttributes(of name: String, to attributes: [String: String]) async throws -> Thing {
        try Self.validate(attributes)
        let (thing, before, after) = try await store.write { writer -> (Thing, Set<String>, Set<String>) in
            guard var thing = try writer.thing(named: name) else { throw OTAServiceError.notFound("thing \(name)") }
            let before = try Self.groups(of: thing, in: writer)
            thing.attributes = attributes
            try writer.save(thing)
            return (thing, before, try Self.groups(of: thing, in: writer))
        }
        try await engine.membershipChanged(thing: name, before: before, after: after)
        return thing
    }

    public func createGroup(_ name: String, description: String = "", query: String? = nil) async throws -> ThingGroup {
        guard Names.isThingName(name) else {
            throw OTAServiceError.invalidRequest("group name '\(name)' must be 1–128 of a-z A-Z 0-9 : _ -")
        }
        guard Names.isFreeText(description) else {
            throw OTAServiceError.invalidRequest("a description is at most 2,028 bytes without control characters")
        }
        if let query {
            guard Names.isFreeText(query, maximumBytes: 1024) else {
                throw OTAServiceError.invalidRequest("a query is at most 1,024 bytes without control characters")
            }
            _ = try GroupQuery(query)
        }
        let group = ThingGroup(name: name, description: description, query: query, createdAt: engine.now())
        try await store.write { writer in
            guard try writer.group(named: name) == nil else { throw OTAServiceError.conflict("group \(name) exists") }
            try writer.save(group)
        }
        return group
    }

    /// Adds a thing to a static group (the join that gives it continuous jobs' executions).
    public func addMember(_ thing: String, to group: String) async throws {
        try await changeMembership(thing, group) { writer in try writer.addMember(thing, to: group) }
    }

    /// Removes a thing from a static group; open executions of continuous jobs it no longer targets are REMOVED.
    public func removeMember(_ thing: String, from group: String) async throws {
        try await changeMembership(thing, group) { writer in try writer.removeMember(thing, from: group) }
    }

    private func changeMembership(
        _ thingName: String, _ groupName: String, _ change: @escaping @Sendable (any StoreWriter) throws -> Void
    ) async throws {
        let (before, after) = try await store.write { writer -> (Set<String>, Set<String>) in
            guard let thing = try writer.thing(named: thingName) else {
                throw OTAServiceError.notFound("thing \(thingName)")
            }
            guard let group = try writer.group(named: groupName) else {
                throw OTAServiceError.notFound("group \(groupName)")
            }
            guard !group.isDynamic else {
                throw OTAServiceError.invalidRequest("group \(groupName) is dynamic: its members follow its query")
            }
            let before = try Self.groups(of: thing, in: writer)
            try change(writer)
            return (before, try Self.groups(of: thing, in: writer))
        }
        try await engine.membershipChanged(thing: thingName, before: before, after: after)
    }

    /// Static groups plus the dynamic groups whose query the thing matches.
    static func groups(of thing: Thing, in reader: any StoreReader) throws -> Set<String> {
        var result = Set(try reader.staticGroups(of: thing.name))
        for group in try reader.groups() {
            if let query = group.query, try GroupQuery(query).matches(thing) { result.insert(group.name) }
        }
        return result
    }

    static func members(of group: ThingGroup, in reader: any StoreReader) throws -> [String] {
        guard let query = group.query else { return try reader.staticMembers(of: group.name) }
        let parsed = try GroupQuery(query)
        return try reader.things().filter(parsed.matches).map(\.name)
    }

    /// The things an update's targets name now, each once, in target order; unknown targets are an error.
    static func resolve(_ targets: [UpdateTarget], in reader: any StoreReader) throws -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for target in targets {
            let names: [String]
            switch target {
            case .thing(let name):
                guard try reader.thing(named: name) != nil else { throw OTAServiceError.notFound("thing \(name)") }
                names = [name]
            case .group(let name):
                guard let group = try reader.group(named: name) else { throw OTAServiceError.notFound("group \(name)") }
                names = try members(of: group, in: reader)
            }
            for name in names where seen.insert(name).inserted { result.append(name) }
        }
        return result
    }

    /// The attribute rules of createThing and setAttributes (internal for Fuzz/APIBody).
    static func validate(_ attributes: [String: String]) throws(OTAServiceError) {
        guard attributes.count <= 50 else { throw .invalidRequest("at most 50 attributes per thing") }
        for (key, value) in attributes {
            guard Names.isAttributeName(key) else { throw .invalidRequest("attribute name '\(key)' is not allowed") }
            guard value.utf8.count <= 800, !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw .invalidRequest("attribute '\(key)' has a value that is too long or has control characters")
            }
        }
    }

    // MARK: Certificates

    /// Records a certificate the service CA issued for a thing: our CA puts the thing name in the CN.
    public func bind(certificatePEM: String, to thingName: String) async throws -> DeviceCertificate {
        let certificate = try CertificateCoding.decode(Array(certificatePEM.utf8))
        guard certificate.commonName == thingName else {
            throw OTAServiceError.invalidRequest(
                "the certificate's CN is '\(certificate.commonName ?? "")', not the thing name '\(thingName)'")
        }
        return try await record(certificate, for: thingName)
    }

    /// Registers a certificate the device brought (made at the factory, by another CA or self-signed) for a thing.
    /// Its CN may be anything: the registration names the thing, and the gateway holds the device to it.
    /// Registers a device certificate (PEM: the certificate first, then any intermediate CAs of its chain) to a
    /// thing, linked to the registered CA it chains to, if any.
    public func register(certificatePEM: String, to thingName: String) async throws -> DeviceCertificate {
        let chain = try CertificateCoding.decodeChain(Array(certificatePEM.utf8))
        let intermediates = Array(chain.dropFirst())
        let authorities = try await store.read { try $0.caCertificates() }
        let link = await Self.link(chain[0], intermediates: intermediates, to: authorities)
        return try await record(chain[0], for: thingName, intermediates: intermediates, issuerCA: link)
    }

    private func record(
        _ certificate: Certificate, for thingName: String, intermediates: [Certificate] = [], issuerCA: String? = nil
    ) async throws -> DeviceCertificate {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let record = DeviceCertificate(
            fingerprint: sha256Hex(serializer.serializedBytes),
            thingName: thingName, pem: try CertificateCoding.encode(certificate), status: .active,
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970), createdAt: engine.now(),
            chainPEM: intermediates.isEmpty ? nil : try intermediates.map(CertificateCoding.encode).joined(),
            issuerCA: issuerCA)
        let stored = try await store.write { writer -> DeviceCertificate in
            guard try writer.thing(named: thingName) != nil else {
                throw OTAServiceError.notFound("thing \(thingName)")
            }
            // A certificate belongs to one thing, and a revocation is final: registering it again changes nothing.
            if let existing = try writer.certificate(fingerprint: record.fingerprint) {
                guard existing.status == .active else {
                    throw OTAServiceError.conflict(
                        "certificate \(record.fingerprint) is revoked; it cannot be registered")
                }
                guard existing.thingName == thingName else {
                    throw OTAServiceError.conflict(
                        "certificate \(record.fingerprint) is registered to thing \(existing.thingName)")
                }
                return existing
            }
            try writer.save(record)
            return record
        }
        trustChanged(.certificate(stored))
        return stored
    }

    /// Revokes a certificate: the gateway refuses it, and its thing's live connection is closed.
    public func revoke(fingerprint: String) async throws -> DeviceCertificate {
        let revoked = try await store.write { writer in
            guard var certificate = try writer.certificate(fingerprint: fingerprint) else {
                throw OTAServiceError.notFound("certificate \(fingerprint)")
            }
            certificate.status = .revoked
            try writer.save(certificate)
            return certificate
        }
        trustChanged(.certificate(revoked))
        return revoked
    }
}
