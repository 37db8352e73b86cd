import CodeSigning
import Hummingbird

// /api/v1/things, /groups, /certificates, /ca-certificates.

extension ManagementAPI {
    func addRegistryRoutes(to api: RouterGroup<APIRequestContext>) {
        let server = server
        let registry = server.registry
        api.get("things") { _, _ in try APIBody.json(try await server.store.read { try $0.things() }) }
        api.post("things") { request, _ in
            let body = try await APIBody.decode(CreateThingBody.self, from: request)
            return try APIBody.json(
                try await registry.createThing(body.name, attributes: body.attributes ?? [:]), status: .created)
        }
        api.get("things/:name") { _, context in try APIBody.json(try await thingView(try context.name("name"))) }
        api.patch("things/:name") { request, context in
            let body = try await APIBody.decode(SetAttributesBody.self, from: request)
            return try APIBody.json(try await registry.setAttributes(of: try context.name("name"), to: body.attributes))
        }
        api.post("things/:name/certificates") { request, context in
            let thing = try context.name("name")
            let body = try await APIBody.decode(IssueCertificateBody.self, from: request)
            let caPEM = try String(contentsOfFile: server.pki.caCertificatePath, encoding: .utf8)
            let issued: IssuedCertificateView
            if let csr = body.csr {
                let pem = try server.pki.signDeviceCSR(csr, thing: thing)
                let record = try await registry.bind(certificatePEM: pem, to: thing)
                issued = IssuedCertificateView(
                    fingerprint: record.fingerprint, certificatePEM: pem, privateKeyPEM: nil, caCertificatePEM: caPEM)
            } else {
                let (pem, key, fingerprint) = try await server.provisionDevice(thing)
                issued = IssuedCertificateView(
                    fingerprint: fingerprint, certificatePEM: pem, privateKeyPEM: key, caCertificatePEM: caPEM)
            }
            return try APIBody.json(issued, status: .created)
        }
        api.post("things/:name/certificates/register") { request, context in
            let body = try await APIBody.decode(RegisterCertificateBody.self, from: request)
            let record = try await registry.register(
                certificatePEM: body.certificatePEM, to: try context.name("name"))
            return try APIBody.json(CertificateView(record), status: .created)
        }
        api.post("certificates/:fingerprint/revoke") { _, context in
            try APIBody.json(
                CertificateView(try await server.registry.revoke(fingerprint: try context.name("fingerprint"))))
        }

        api.get("ca-certificates") { _, _ in try APIBody.json(try await server.store.read { try $0.caCertificates() }) }
        api.post("ca-certificates") { request, _ in
            let body = try await APIBody.decode(RegisterCertificateBody.self, from: request)
            // A registered copy of the service CA could be "deactivated" without effect: refuse the confusion.
            guard try CertificateCoding.decode(Array(body.certificatePEM.utf8)) != server.pki.authority.certificate
            else { throw OTAServiceError.invalidRequest("that is the service CA, which is always trusted") }
            return try APIBody.json(
                try await registry.registerCA(certificatePEM: body.certificatePEM), status: .created)
        }
        for (action, status): (String, CACertificateStatus) in [("activate", .active), ("deactivate", .inactive)] {
            api.post("ca-certificates/:fingerprint/\(action)") { _, context in
                try APIBody.json(try await registry.setStatus(ofCA: try context.name("fingerprint"), to: status))
            }
        }

        api.get("groups") { _, _ in try APIBody.json(try await server.store.read { try $0.groups() }) }
        api.post("groups") { request, _ in
            let body = try await APIBody.decode(CreateGroupBody.self, from: request)
            let group = try await registry.createGroup(
                body.name, description: body.description ?? "", query: body.query)
            return try APIBody.json(group, status: .created)
        }
        api.get("groups/:name") { _, context in
            let name = try context.name("name")
            let view = try await server.store.read { reader -> GroupView in
                guard let group = try reader.group(named: name) else { throw OTAServiceError.notFound("group \(name)") }
                return GroupView(
                    name: group.name, description: group.description, query: group.query, createdAt: group.createdAt,
                    members: try Registry.members(of: group, in: reader))
            }
            return try APIBody.json(view)
        }
        api.post("groups/:name/members") { request, context in
            let body = try await APIBody.decode(AddMemberBody.self, from: request)
            try await registry.addMember(body.thing, to: try context.name("name"))
            return Response(status: .noContent)
        }
        api.delete("groups/:name/members/:thing") { _, context in
            try await registry.removeMember(try context.name("thing"), from: try context.name("name"))
            return Response(status: .noContent)
        }

        @Sendable func thingView(_ name: String) async throws -> ThingView {
            try await server.store.read { reader in
                guard let thing = try reader.thing(named: name) else { throw OTAServiceError.notFound("thing \(name)") }
                return ThingView(
                    name: thing.name, attributes: thing.attributes, createdAt: thing.createdAt,
                    lastSeenAt: thing.lastSeenAt, groups: try Registry.groups(of: thing, in: reader).sorted(),
                    certificates: try reader.certificates(of: name).map(CertificateView.init))
            }
        }
    }
}
