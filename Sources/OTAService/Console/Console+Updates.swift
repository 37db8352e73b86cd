import Foundation
import Hummingbird
import OTAWire

// /console/updates: the list, the create form (everything `ota updates create` takes, "sign it for me" included),
// a rollout's live view (server-sent events: counts per status, a progress bar per downloading device, failures with
// their reasons, the rollout and abort settings) and cancel / force-cancel behind a confirmation page.

extension Console {
    func addUpdatePages(to pages: RouterGroup<APIRequestContext>) {
        let server = server
        pages.get("updates") { _, context in
            let principal = try Self.principal(context)
            let rows = try await server.store.read { reader in
                try reader.updates().reversed().map { update -> [String] in
                    let job = try reader.job(id: update.jobID)
                    let tally = try reader.executionTally(jobID: update.jobID, queuedAfter: 0)
                    return [
                        "<a href=\"/console/updates/\(HTML.component(update.id))\">\(HTML.escape(update.id))</a>",
                        HTML.escape(job?.status.rawValue ?? "?"), String(tally.byStatus[.succeeded, default: 0]),
                        String(tally.byStatus[.failed, default: 0] + tally.byStatus[.timedOut, default: 0]),
                        String(tally.total), HTML.escape(update.fileName), HTML.time(update.createdAt),
                    ]
                }
            }
            let create =
                principal.may(.operator)
                ? "<p><a class=\"button\" href=\"/console/updates/new\">Create update</a></p>" : ""
            let body =
                create
                + (rows.isEmpty
                    ? "<p class=\"notice\">No updates yet.</p>"
                    : HTML.table(["Update", "Job", "Succeeded", "Failed", "Devices", "File", "Created"], rows))
            return HTML.page("Updates", body: body, principal: principal, csrf: context.csrfToken, section: "updates")
        }
        pages.get("updates/new") { _, context in
            guard try Self.principal(context).may(.operator) else { return forbidden(context, needs: .operator) }
            return try await newUpdatePage(context)
        }
        pages.post("updates") { request, context in
            let form = try await Self.form(request, context)
            let id = form.value("id") ?? ""
            return try await change(
                request, context, action: "/console/updates", needs: .operator,
                subject: AuditSubject(kind: "update", id: id)
            ) {
                _ = try await server.updates.create(try Self.updateRequest(form))
                return HTML.redirect(to: "/console/updates/" + HTML.component(id))
            }
        }
        pages.get("updates/:id") { _, context in try await updatePage(try context.name("id"), context) }
        pages.get("updates/:id/events") { request, context in
            let id = try context.name("id")
            guard try await server.store.read({ try $0.update(id: id) }) != nil else {
                throw OTAServiceError.notFound("update \(id)")
            }
            return liveEvents(id, session: request.cookies[ConsoleSessions.cookieName]?.value ?? "")
        }
        pages.get("updates/:id/cancel") { _, context in
            guard try Self.principal(context).may(.operator) else { return forbidden(context, needs: .operator) }
            let id = try context.name("id")
            let body = """
                <p>Cancel update <strong>\(HTML.escape(id))</strong>? Devices that have not started it will not get it.</p>
                <form class="stack" method="post" action="/console/updates/\(HTML.component(id))/cancel">
                \(HTML.hiddenCSRF(context.csrfToken))
                <label><span><input type="checkbox" name="force" value="yes"> Force: also stop devices that are
                downloading or installing it now</span><span class="hint">A forced device may be left with a
                partial image in its passive slot; it keeps running its current firmware.</span></label>
                <button class="danger" type="submit">Yes, cancel the update</button>
                <a href="/console/updates/\(HTML.component(id))">No, keep it running</a>
                </form>
                """
            return HTML.page(
                "Cancel \(id)", body: body, principal: context.principal, csrf: context.csrfToken, section: "updates")
        }
        pages.post("updates/:id/cancel") { request, context in
            let id = try context.name("id")
            let form = try await Self.form(request, context)
            return try await change(
                request, context, action: "/console/updates/{id}/cancel", needs: .operator,
                subject: AuditSubject(kind: "update", id: id)
            ) {
                try await server.engine.cancel(jobID: "AFR_OTA-" + id, force: form.value("force") == "yes")
                return HTML.redirect(to: "/console/updates/" + HTML.component(id))
            }
        }
    }

    /// What the create form posted, as the API's request (the same validation follows in `Updates.create`).
    static func updateRequest(_ form: FormData) throws -> CreateUpdateRequest {
        func names(_ field: String) -> [String] {
            form.values(field).flatMap { $0.split(whereSeparator: { ", \n\r\t".contains($0) }).map(String.init) }
        }
        func number(_ field: String) throws -> Int? {
            guard let text = form.value(field)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw OTAServiceError.invalidRequest("\(field) must be a whole number") }
            return value
        }
        let signForMe = form.value("sign") == "yes"
        let signature = form.value("signature")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard signForMe || !signature.isEmpty else {
            throw OTAServiceError.invalidRequest("tick \"sign it for me\" or paste the file's signature")
        }
        let abort = try (form.value("abort") ?? "").split(whereSeparator: \.isNewline)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { try RolloutText.abortCriterion(String($0)) }
        let exponential = form.value("exponential")?.trimmingCharacters(in: .whitespaces) ?? ""
        let protocols: [String] =
            switch form.value("protocol") {
            case "HTTP": ["HTTP"]
            case "BOTH": ["MQTT", "HTTP"]
            default: ["MQTT"]
            }
        let fileName = form.value("fileName")?.trimmingCharacters(in: .whitespaces) ?? ""
        let description = form.value("description")?.trimmingCharacters(in: .whitespaces) ?? ""
        return CreateUpdateRequest(
            id: form.value("id")?.trimmingCharacters(in: .whitespaces) ?? "",
            description: description.isEmpty ? nil : description, fileID: form.value("file") ?? "",
            fileName: fileName.isEmpty ? nil : fileName, fileType: try number("fileType"),
            signingProfile: form.value("profile") ?? "", signature: signForMe ? nil : signature,
            things: names("things"), groups: form.values("groups"),
            targetSelection: form.value("selection") == "CONTINUOUS" ? .continuous : .snapshot,
            rollout: RolloutConfig(
                maximumPerMinute: try number("maxPerMinute"),
                exponentialRate: exponential.isEmpty ? nil : try RolloutText.exponentialRate(exponential)),
            abortCriteria: abort,
            inProgressTimeoutMinutes: try number("timeoutMinutes"), protocols: protocols)
    }

    private func newUpdatePage(_ context: APIRequestContext) async throws -> Response {
        let (files, profiles, groups) = try await server.store.read { reader in
            (try reader.files(), try reader.signingProfiles(), try reader.groups())
        }
        func options<T>(_ items: [T], value: (T) -> String, label: (T) -> String) -> String {
            items.map { "<option value=\"\(HTML.escape(value($0)))\">\(HTML.escape(label($0)))</option>" }.joined()
        }
        let fileOptions = options(files.reversed(), value: \.id) { file in
            "\(file.name) · \(file.projectName ?? file.kind.rawValue) \(file.version ?? "") · \(file.size) bytes · \(file.id.prefix(12))"
        }
        let body = """
            <form class="stack" method="post" action="/console/updates">
            \(HTML.hiddenCSRF(context.csrfToken))
            <label>Update id <input name="id" required pattern="[A-Za-z0-9_-]{1,56}"
              ><span class="hint">The job is AFR_OTA-&lt;id&gt;.</span></label>
            <label>Description <input name="description"></label>
            <label>Things <textarea name="things" rows="2" placeholder="dev-001, dev-002"></textarea>
              <span class="hint">Names, separated by commas or spaces.</span></label>
            <label>Groups <select name="groups" multiple size="\(min(max(groups.count, 2), 6))">\(options(groups, value: \.name, label: { "\($0.name)\($0.isDynamic ? " (dynamic: \($0.query ?? ""))" : "")" }))</select></label>
            <label>Targets <select name="selection"><option value="SNAPSHOT">Snapshot: the targets as they are now</option>
              <option value="CONTINUOUS">Continuous: also things that join the groups later</option></select></label>
            <label>File <select name="file" required>\(fileOptions)</select>
              <span class="hint">Upload one under <a href="/console/files">Files</a>.</span></label>
            <label><span><input type="checkbox" name="sign" value="yes" checked> Sign a new firmware image for me</span>
              <span class="hint">With the profile's key; untick to paste your own signature.</span></label>
            <label>Code-signing profile <select name="profile" required>\(options(profiles, value: \.name, label: \.name))</select></label>
            <label>Your signature (base64 DER) <textarea name="signature" rows="2"></textarea></label>
            <label>Path on the device <input name="fileName" placeholder="the file's name"></label>
            <label>File type <input name="fileType" inputmode="numeric" value="0"><span class="hint">0 is firmware.</span></label>
            <label>Protocol <select name="protocol"><option value="MQTT">MQTT</option><option value="HTTP">HTTP</option>
              <option value="BOTH">MQTT and HTTP (the device chooses)</option></select></label>
            <label>Rollout: devices per minute at most <input name="maxPerMinute" inputmode="numeric"></label>
            <label>Exponential rollout <input name="exponential" placeholder="10:2:50">
              <span class="hint">BASE:FACTOR:NOTIFIED: start at BASE a minute, multiply by FACTOR each time NOTIFIED
              more devices were notified.</span></label>
            <label>Abort rules <textarea name="abort" rows="2" placeholder="FAILED:20:10"></textarea>
              <span class="hint">One per line, TYPE:PERCENT:MINIMUM: stop the rollout when PERCENT of the finished
              devices (at least MINIMUM of them) ended FAILED, REJECTED, TIMED_OUT or ALL of these.</span></label>
            <label>In-progress timeout, minutes <input name="timeoutMinutes" inputmode="numeric"></label>
            <button type="submit">Create update</button>
            </form>
            """
        return HTML.page(
            "Create update", body: body, principal: context.principal, csrf: context.csrfToken, section: "updates")
    }

    private func updatePage(_ id: String, _ context: APIRequestContext) async throws -> Response {
        let principal = try Self.principal(context)
        let found = try await server.store.read { reader -> (OTAUpdate, Job?)? in
            guard let update = try reader.update(id: id) else { return nil }
            return (update, try reader.job(id: update.jobID))
        }
        guard let (update, job) = found else {
            return HTML.page(
                "Not found", body: "<p class=\"notice error\">No update \(HTML.escape(id)).</p>", principal: principal,
                csrf: context.csrfToken, status: .notFound)
        }
        let state = try await liveState(id)
        let counts = JobExecutionStatus.allCases.map { status in
            "<li>\(status.rawValue)<strong data-count=\"\(status.rawValue)\">\(state.counts[status.rawValue] ?? 0)</strong></li>"
        }.joined()
        let rows = state.executions.map { execution in
            [
                HTML.escape(execution.thing), HTML.escape(execution.status),
                execution.progress.map { "<progress max=\"100\" value=\"\($0)\">\($0)%</progress>" } ?? "",
                HTML.escape(execution.details ?? ""),
            ]
        }
        let targets: String = job.map { $0.targets.map(Self.describe).joined(separator: ", ") } ?? "?"
        let rollout: String = job?.rollout.maximumPerMinute.map { "at most \($0) a minute" } ?? "as fast as devices ask"
        let criteria: [AbortCriterion] = job?.abortCriteria ?? []
        let abort: String = criteria.isEmpty ? "never" : criteria.map(Self.describe).joined(separator: "; ")
        var settings: [(String, String)] = [
            ("File", "\(update.fileName) (\(update.fileID.prefix(16))…)"), ("Signing profile", update.signingProfile),
            ("Targets", targets), ("Selection", job?.selection.rawValue ?? "?"), ("Rollout", rollout), ("Abort", abort),
        ]
        if let minutes = job?.inProgressTimeoutMinutes { settings.append(("In-progress timeout", "\(minutes) min")) }
        let cancel =
            principal.may(.operator) && job?.status == .inProgress
            ? "<p id=\"cancel\"><a class=\"button danger\" href=\"/console/updates/\(HTML.component(id))/cancel\">Cancel…</a></p>"
            : ""
        let body = """
            <div id="live" data-events="/console/updates/\(HTML.component(id))/events">
            <p>Job <strong id="job-status">\(HTML.escape(state.status + (state.reason.map { " (\($0))" } ?? "")))</strong>
            · <span id="pending">\(state.pending)</span> not released yet · <span id="live-state" class="muted">connecting…</span></p>
            <ul class="counts">\(counts)</ul>
            \(cancel)
            \(HTML.table(["Device", "Status", "Progress", "Details"], rows, id: "executions"))
            <h2>Settings</h2>
            \(HTML.table(["Setting", "Value"], settings.map { [HTML.escape($0.0), HTML.escape($0.1)] }))
            </div>
            """
        return HTML.page("Update \(id)", body: body, principal: principal, csrf: context.csrfToken, section: "updates")
    }

    /// A rollout as the live view shows it.
    struct LiveState: Codable, Equatable {
        struct Execution: Codable, Equatable {
            var thing: String
            var status: String
            var progress: Int?
            var details: String?
        }
        var status: String
        var reason: String?
        var pending: Int
        var counts: [String: Int]
        var executions: [Execution]
    }

    /// Executions listed at most: downloading and failed devices first, then the rest.
    static let listedExecutions = 300

    func liveState(_ id: String) async throws -> LiveState {
        let progress = server.deliveryProgress
        return try await server.store.read { reader in
            guard let update = try reader.update(id: id), let job = try reader.job(id: update.jobID) else {
                throw OTAServiceError.notFound("update \(id)")
            }
            let executions = try reader.executions(jobID: job.id)
            var counts: [String: Int] = [:]
            for execution in executions { counts[execution.status.rawValue, default: 0] += 1 }
            let order: [JobExecutionStatus] = [
                .inProgress, .failed, .timedOut, .rejected, .queued, .canceled, .removed, .succeeded,
            ]
            let listed = executions.sorted { a, b in
                let (x, y) = (order.firstIndex(of: a.status) ?? 0, order.firstIndex(of: b.status) ?? 0)
                return x != y ? x < y : a.thingName < b.thingName
            }.prefix(Self.listedExecutions)
            return LiveState(
                status: job.status.rawValue, reason: job.reason, pending: try reader.pendingTargetCount(jobID: job.id),
                counts: counts,
                executions: listed.map { execution in
                    LiveState.Execution(
                        thing: execution.thingName, status: execution.status.rawValue,
                        progress: execution.status == .succeeded
                            ? 100
                            : execution.status == .inProgress
                                ? progress.percent(thing: execution.thingName, stream: job.streamID) : nil,
                        details: execution.statusDetails)
                })
        }
    }

    /// Server-sent events: the live state whenever it changes (checked each second), a comment every 15 s to keep
    /// the connection open, for five minutes; the browser's EventSource then reconnects by itself. The session is
    /// checked again every 15 s: signing out or being disabled ends the stream too.
    private func liveEvents(_ id: String, session: String) -> Response {
        let sessions = server.sessions
        var headers = HTML.securityHeaders
        headers[.contentType] = "text/event-stream"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var last: LiveState?
                for second in 0..<300 {
                    let state = try await liveState(id)
                    if state != last {
                        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "data: \(json)\n\n"))
                        last = state
                    } else if second % 15 == 0 {
                        guard try await sessions.resume(session) != nil else { break }
                        try await writer.write(ByteBuffer(string: ": waiting\n\n"))
                    }
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            })
    }

    static func describe(_ target: UpdateTarget) -> String {
        switch target {
        case .thing(let name): return "thing \(name)"
        case .group(let name): return "group \(name)"
        }
    }

    static func describe(_ criterion: AbortCriterion) -> String {
        "\(criterion.failureType.rawValue) ≥ \(criterion.thresholdPercentage)% of ≥ \(criterion.minNumberOfExecutedThings)"
    }
}
