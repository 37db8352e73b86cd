import Hummingbird

// /console/files: every uploaded file with its image information (project, version, secure_version, chip when the
// image says, SHA-256), the signing profiles and their certificates, and an upload form (operator).

extension Console {
    func addFilePages(to pages: RouterGroup<APIRequestContext>) {
        let server = server
        pages.get("files") { _, context in
            let principal = try Self.principal(context)
            let (files, profiles) = try await server.store.read { (try $0.files(), try $0.signingProfiles()) }
            let fileRows = files.reversed().map { file in
                [
                    HTML.escape(file.name), HTML.escape(file.kind.rawValue), HTML.escape(file.projectName ?? "—"),
                    HTML.escape(file.version ?? "—"), file.secureVersion.map(String.init) ?? "—", String(file.size),
                    "<code>\(HTML.escape(file.id))</code>", HTML.time(file.createdAt),
                ]
            }
            let profileRows = profiles.map { profile in
                [
                    HTML.escape(profile.name), HTML.escape("\(profile.platform) \(profile.algorithm)"),
                    profile.keyPath == nil ? "your signatures" : "signs for you",
                    HTML.escape(profile.certificatePathOnDevice),
                    "<details><summary>certificate</summary><pre>\(HTML.escape(profile.certificatePEM))</pre></details>",
                ]
            }
            let upload =
                principal.may(.operator)
                ? """
                <h2>Upload</h2>
                <form class="stack" method="post" action="/console/files" enctype="multipart/form-data">
                \(HTML.hiddenCSRF(context.csrfToken))
                <label>File <input type="file" name="file" required></label>
                <label>Kind <select name="kind"><option value="app">App image (checked: header, descriptor, digest)</option>
                  <option value="data">Data (any partition's content)</option></select></label>
                <button type="submit">Upload</button>
                </form>
                """ : ""
            let body =
                (fileRows.isEmpty
                    ? "<p class=\"notice\">No files yet.</p>"
                    : HTML.table(
                        ["Name", "Kind", "Project", "Version", "secure_version", "Bytes", "SHA-256", "Uploaded"],
                        fileRows))
                + "<h2>Signing profiles</h2>"
                + (profileRows.isEmpty
                    ? "<p class=\"notice\">No signing profiles: an admin creates one (<code>ota files create-profile</code>).</p>"
                    : HTML.table(["Profile", "Algorithm", "Signatures", "Certificate on device", ""], profileRows))
                + upload
            return HTML.page(
                "Files and signing", body: body, principal: principal, csrf: context.csrfToken, section: "files")
        }
        pages.post("files") { request, context in
            // The role is checked before a 16 MiB body is read, the CSRF token with the body.
            return try await change(request, context, action: "/console/files", needs: .operator, subject: nil) {
                let form = try await Self.form(request, context, limit: APIBody.maximumFileBytes + (64 << 10))
                guard let (name, bytes) = form.file, !bytes.isEmpty else {
                    throw OTAServiceError.invalidRequest("choose a file to upload")
                }
                guard let kind = FileKind(rawValue: form.value("kind") ?? "app") else {
                    throw OTAServiceError.invalidRequest("kind must be app or data")
                }
                _ = try await server.updates.upload(bytes, name: name.isEmpty ? "upload.bin" : name, kind: kind)
                return HTML.redirect(to: "/console/files")
            }
        }
    }
}
