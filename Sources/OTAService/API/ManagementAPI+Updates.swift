import Hummingbird

// /api/v1/files, /signing-profiles, /updates, /jobs.

extension ManagementAPI {
    func addFileRoutes(to api: RouterGroup<APIRequestContext>) {
        let server = server
        api.get("files") { _, _ in try APIBody.json(try await server.store.read { try $0.files() }) }
        api.get("files/:id") { _, context in
            let id = try context.name("id")
            guard let file = try await server.store.read({ try $0.file(id: id) }) else {
                throw OTAServiceError.notFound("file \(id)")
            }
            return try APIBody.json(file)
        }
        // The body is the file itself; name and kind (app | data) come in the query.
        api.post("files") { request, _ in
            guard let name = request.query("name") else {
                throw OTAServiceError.invalidRequest("query parameter name is missing")
            }
            let kindText = request.query("kind") ?? "app"
            guard let kind = FileKind(rawValue: kindText) else {
                throw OTAServiceError.invalidRequest("kind must be app or data, not '\(kindText)'")
            }
            let body = try await APIBody.collect(request, upTo: APIBody.maximumFileBytes)
            let file = try await server.updates.upload(Array(body.readableBytesView), name: name, kind: kind)
            return try APIBody.json(file, status: .created)
        }
        api.post("files/import") { request, _ in
            let body = try await APIBody.decode(ImportFileBody.self, from: request)
            let kindText = body.kind ?? "app"
            guard let kind = FileKind(rawValue: kindText) else {
                throw OTAServiceError.invalidRequest("kind must be app or data, not '\(kindText)'")
            }
            let file = try await server.updates.importObject(body.url, name: body.name, kind: kind)
            return try APIBody.json(file, status: .created)
        }

        api.get("signing-profiles") { _, _ in
            try APIBody.json(try await server.store.read { try $0.signingProfiles() }.map(SigningProfileView.init))
        }
        api.post("signing-profiles") { request, _ in
            let body = try await APIBody.decode(CreateSigningProfileBody.self, from: request)
            let record: SigningProfileRecord
            if body.generateKey == true {
                guard body.certificatePEM == nil, body.keyPath == nil else {
                    throw OTAServiceError.invalidRequest("generateKey excludes certificatePEM and keyPath")
                }
                record = try await server.updates.createGeneratedSigningProfile(
                    name: body.name, keyDirectory: server.signingKeys.directory,
                    certificatePathOnDevice: body.certificatePathOnDevice)
            } else {
                guard let certificatePEM = body.certificatePEM else {
                    throw OTAServiceError.invalidRequest("certificatePEM is required unless generateKey is true")
                }
                // A key named by an API caller must be in the key store (issue: keyPath could name any server file).
                let keyPath = try body.keyPath.map { reference throws(OTAServiceError) in
                    try server.signingKeys.resolve(reference)
                }
                record = try await server.updates.createSigningProfile(
                    name: body.name, certificatePEM: certificatePEM, keyPath: keyPath,
                    certificatePathOnDevice: body.certificatePathOnDevice)
            }
            return try APIBody.json(SigningProfileView(record), status: .created)
        }
    }

    func addUpdateRoutes(to api: RouterGroup<APIRequestContext>) {
        let server = server
        api.get("updates") { _, _ in try APIBody.json(try await server.store.read { try $0.updates() }) }
        api.post("updates") { request, _ in
            let body = try await APIBody.decode(CreateUpdateRequest.self, from: request)
            let update = try await server.updates.create(body)
            return try APIBody.json(try await updateView(update.id), status: .created)
        }
        api.get("updates/:id") { _, context in try APIBody.json(try await updateView(try context.name("id"))) }
        api.post("updates/:id/cancel") { request, context in
            let id = try context.name("id")
            let body = try await APIBody.decodeIfPresent(CancelBody.self, from: request) ?? CancelBody()
            try await server.engine.cancel(jobID: "AFR_OTA-" + id, force: body.force ?? false)
            return try APIBody.json(try await updateView(id))
        }

        api.get("jobs") { _, _ in
            try APIBody.json(
                try await server.store.read { reader in try reader.jobs().map { try Self.jobView($0, in: reader) } })
        }
        api.get("jobs/:id") { _, context in
            let id = try context.name("id")
            return try APIBody.json(
                try await server.store.read { reader in
                    guard let job = try reader.job(id: id) else { throw OTAServiceError.notFound("job \(id)") }
                    return try Self.jobView(job, in: reader)
                })
        }
        api.get("jobs/:id/executions") { _, context in
            let id = try context.name("id")
            return try APIBody.json(
                try await server.store.read { reader in
                    guard try reader.job(id: id) != nil else { throw OTAServiceError.notFound("job \(id)") }
                    return try reader.executions(jobID: id)
                })
        }
        api.post("jobs/:id/cancel") { request, context in
            let id = try context.name("id")
            let body = try await APIBody.decodeIfPresent(CancelBody.self, from: request) ?? CancelBody()
            try await server.engine.cancel(jobID: id, force: body.force ?? false)
            return try APIBody.json(
                try await server.store.read { reader in
                    guard let job = try reader.job(id: id) else { throw OTAServiceError.notFound("job \(id)") }
                    return try Self.jobView(job, in: reader)
                })
        }

        @Sendable func updateView(_ id: String) async throws -> UpdateView {
            try await server.store.read { reader in
                guard let update = try reader.update(id: id) else { throw OTAServiceError.notFound("update \(id)") }
                let job = try reader.job(id: update.jobID)
                return UpdateView(
                    update: update, job: job, progress: try job.map { try Self.jobView($0, in: reader).progress })
            }
        }
    }

    static func jobView(_ job: Job, in reader: any StoreReader) throws -> JobView {
        JobView(
            job: job,
            progress: JobProgress(
                try reader.executions(jobID: job.id), pending: try reader.pendingTargetCount(jobID: job.id)))
    }
}
