import ESP32Formats

// Files: uploaded through the API into the configured file store, or imported from an object already in the bucket
// (a CI pipeline's artifact), whose bytes the service reads and stores as an upload. Both validate app images the
// same way and register the file only once its bytes are where the record says: nothing half-registered.

extension Updates {
    /// Stores a file. An `app` must be a valid ESP-IDF app image (header, segments, checksum, hash); its
    /// descriptor's version and secure_version are recorded.
    public func upload(_ bytes: [UInt8], name: String, kind: FileKind) async throws -> StoredFile {
        // Validated before anything is stored: a refused file leaves nothing behind.
        var file = try record(of: bytes, name: name, kind: kind)
        let location = try await files.store.put(bytes, id: file.id)
        file.location = location.location
        file.etag = location.etag
        return try await register(file)
    }

    /// Takes in `s3://bucket/key` from the file store's bucket: read once by the service, validated like an upload
    /// and stored content-addressed beside the others (the object at `key` may be overwritten by the next build; the
    /// stored copy is what devices get). `name` defaults to the key's last component.
    public func importObject(_ url: String, name: String?, kind: FileKind) async throws -> StoredFile {
        guard let importing = files.store as? any ObjectImporting else {
            throw OTAServiceError.invalidRequest(
                "importing \(url) needs an S3 file store (ota serve --file-store s3://…); this service uses "
                    + files.store.summary)
        }
        let bytes = try await importing.importObject(at: url, maximumBytes: APIBody.maximumFileBytes)
        return try await upload(bytes, name: name ?? String(url.split(separator: "/").last ?? ""), kind: kind)
    }

    private func record(of bytes: [UInt8], name: String, kind: FileKind) throws -> StoredFile {
        guard !bytes.isEmpty else { throw OTAServiceError.invalidRequest("the file is empty") }
        // The name is the job document's default filepath: the same rule as a path given for the device.
        guard name.utf8.count <= 255, Names.isDevicePath(name) else {
            throw OTAServiceError.invalidRequest("file name must be 1–255 bytes without control characters")
        }
        var file = StoredFile(
            id: sha256Hex(bytes), name: name, size: Int64(bytes.count), kind: kind, createdAt: engine.now())
        if kind == .app {
            let descriptor: AppDescriptor
            do {
                let image = try AppImage(bytes: bytes)
                try image.validate()
                descriptor = try image.appDescriptor()
            } catch {
                throw OTAServiceError.invalidRequest("not a valid ESP32 app image: \(error)")
            }
            file.version = descriptor.version
            file.secureVersion = Int(descriptor.secureVersion)
            file.projectName = descriptor.projectName
        }
        return file
    }

    /// The first registration of a content wins: the same bytes uploaded or imported again return that record.
    private func register(_ file: StoredFile) async throws -> StoredFile {
        try await store.write { writer in
            if let existing = try writer.file(id: file.id) { return existing }
            try writer.save(file)
            return file
        }
    }
}
