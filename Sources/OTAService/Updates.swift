import CodeSigning
import ESP32Formats
import Foundation
import OTAWire

// Files, signing profiles and OTA updates: upload validates app images; creating an update signs (or verifies a
// custom signature), builds the `afr_ota` document and the stream, and queues the job's targets for the rollout.

public struct Updates: Sendable {
    let store: any OTAStore
    let files: FileContentCache
    let engine: JobEngine

    public init(store: any OTAStore, files: FileContentCache, engine: JobEngine) {
        self.store = store
        self.files = files
        self.engine = engine
    }

    // MARK: Signing profiles

    public func createSigningProfile(
        name: String, certificatePEM: String, keyPath: String?, certificatePathOnDevice: String?
    ) async throws -> SigningProfileRecord {
        if let certificatePathOnDevice, !Names.isDevicePath(certificatePathOnDevice) {
            throw OTAServiceError.invalidRequest(
                "certificatePathOnDevice must be 1–1024 bytes without control characters")
        }
        _ = try SigningProfile(
            name: name, certificatePEM: certificatePEM, key: keyPath.map { KeyReference.file(path: $0) })
        if let keyPath {
            let key = try KeyFiles.readPrivateKey(at: keyPath)
            try CertificateCoding.decode(Array(certificatePEM.utf8)).checkMatches(key.publicKey)
        }
        let record = SigningProfileRecord(
            name: name, certificatePEM: certificatePEM, keyPath: keyPath,
            certificatePathOnDevice: certificatePathOnDevice ?? "Code Verify Key", createdAt: engine.now())
        return try await store.write { writer in
            guard try writer.signingProfile(named: name) == nil else {
                throw OTAServiceError.conflict("signing profile \(name) exists")
            }
            try writer.save(record)
            return record
        }
    }

    // MARK: Updates

    /// Creates an OTA update, its stream and its job `AFR_OTA-<id>`, then runs one rollout tick so the first
    /// executions go out at once.
    public func create(_ request: CreateUpdateRequest) async throws -> OTAUpdate {
        try request.validate()
        let (file, profileRecord) = try await store.read { reader in
            (try reader.file(id: request.fileID), try reader.signingProfile(named: request.signingProfile))
        }
        guard let file else { throw OTAServiceError.notFound("file \(request.fileID)") }
        guard let profileRecord else { throw OTAServiceError.notFound("signing profile \(request.signingProfile)") }
        guard file.size <= CreateUpdateRequest.maximumFileSize else {
            throw OTAServiceError.invalidRequest(
                "the file is \(file.size) bytes; FreeRTOS OTA agents track at most 1024 blocks of 4 KiB (4 MiB)")
        }
        let bytes = try await files.contents(of: file)
        let signature = try sign(bytes, profileRecord: profileRecord, supplied: request.signature)

        let time = engine.now()
        let jobID = "AFR_OTA-" + request.id
        let streamID = "AFR_OTA-" + UUID().uuidString.lowercased()
        let fileType = request.fileType ?? (file.kind == .app ? 0 : 1)
        // MQTT and HTTP keep AWS's order; an HTTP document carries a placeholder each delivery replaces with a URL.
        let protocols = ["MQTT", "HTTP"].filter(request.deliveryProtocols.contains)
        let http = protocols.contains("HTTP")
        if http { try checkDataURL(for: file, at: time) }
        let document = OTAJobDocument(
            protocols: protocols, streamName: protocols.contains("MQTT") ? streamID : nil,
            files: [
                OTAFileEntry(
                    filePath: request.fileName ?? file.name, fileSize: UInt32(file.size), fileID: 0,
                    certFile: profileRecord.certificatePathOnDevice, signature: signature,
                    fileType: fileType == 0 ? nil : UInt32(fileType),
                    updateDataURL: http ? DataURLs.placeholder : nil, authScheme: http ? "aws.s3.presigned" : nil)
            ])
        let targets: [UpdateTarget] =
            (request.things ?? []).map { .thing($0) } + (request.groups ?? []).map { .group($0) }
        let job = Job(
            id: jobID, updateID: request.id, description: request.description ?? "",
            document: document.json.serializedText,
            streamID: streamID, fileID: file.id, targets: targets, selection: request.targetSelection ?? .snapshot,
            rollout: request.rollout ?? RolloutConfig(), abortCriteria: request.abortCriteria ?? [],
            inProgressTimeoutMinutes: request.inProgressTimeoutMinutes, createdAt: time)
        let update = OTAUpdate(
            id: request.id, fileID: file.id, fileType: fileType, fileName: request.fileName ?? file.name,
            signingProfile: profileRecord.name, signature: signature, jobID: jobID, createdAt: time)
        let stream = StreamRecord(
            id: streamID, files: [StreamFile(fileID: 0, storedFileID: file.id, size: file.size)], createdAt: time)

        try await store.write { writer in
            guard try writer.update(id: request.id) == nil, try writer.job(id: jobID) == nil else {
                throw OTAServiceError.conflict("update \(request.id) exists")
            }
            let things = try Registry.resolve(targets, in: writer)
            try writer.save(stream)
            try writer.save(job)
            try writer.save(update)
            try writer.addPendingTargets(jobID: jobID, things: things)
        }
        try await engine.tick()
        return update
    }

    /// Refuses at creation what would fail at every delivery of an HTTP update: no data plane (the API is off, or
    /// the file is in another store than the service's) or a URL longer than the FreeRTOS agent's 1,500-byte buffer
    /// (aws-ota-wire.md §4.1; a presigned URL with a session token can be), measured for the longest thing name.
    private func checkDataURL(for file: StoredFile, at time: Int64) throws {
        guard let urls = engine.dataURLs else {
            throw OTAServiceError.invalidRequest("this service has no HTTP data plane: create the update for MQTT")
        }
        let longest = try urls.url(for: file, thing: String(repeating: "x", count: 128), now: time)
        guard longest.utf8.count <= 1500 else {
            throw OTAServiceError.invalidRequest(
                "its data URLs would be \(longest.utf8.count) bytes, more than the 1,500 a FreeRTOS agent takes "
                    + "(shorten --data-url-base, the bucket prefix, or avoid session-token credentials)")
        }
    }

    /// The service's signature ("sign it for me") or the user's, verified against the profile's certificate.
    private func sign(_ bytes: [UInt8], profileRecord: SigningProfileRecord, supplied: String?) throws -> String {
        let profile = try profileRecord.signingProfile()
        guard let supplied else { return try profile.sign(bytes).base64 }
        guard let der = Base64.decode(supplied) else {
            engine.metrics.signatureFailed(.update)
            throw OTAServiceError.signatureInvalid("the signature is not base64")
        }
        do {
            try profile.verify(bytes, signature: try CodeSignature(der: der))
        } catch {
            engine.metrics.signatureFailed(.update)
            throw OTAServiceError.signatureInvalid("\(error)")
        }
        return supplied
    }
}

extension SigningProfileRecord {
    func signingProfile() throws -> SigningProfile {
        try SigningProfile(
            name: name, platform: platform, certificatePEM: certificatePEM, key: keyPath.map { .file(path: $0) })
    }
}
