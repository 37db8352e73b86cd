import Hummingbird
import OTAWire

// /console/fleet (things, searched and paged on the server), a thing's page (its certificates with revoke, its job
// history) and /console/groups (static and dynamic, with their members or what the query catches).

extension Console {
    static let pageSize = 50

    func addFleetPages(to pages: RouterGroup<APIRequestContext>) {
        let server = server
        pages.get("fleet") { request, context in
            let query = (request.uri.queryParameters["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
            let page = Self.page(request)
            let mqtt = server.mqtt
            let (rows, total) = try await server.store.read { reader -> ([[String]], Int) in
                let matching = try reader.things().filter {
                    query.isEmpty || $0.name.localizedCaseInsensitiveContains(query)
                }
                let shown = matching.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)
                var versions = FirmwareVersions()
                let rows = try shown.map { thing -> [String] in
                    let executions = try reader.executions(thing: thing.name)
                    let current = executions.last { !$0.status.isTerminal }
                    return [
                        "<a href=\"/console/things/\(HTML.component(thing.name))\">\(HTML.escape(thing.name))</a>",
                        HTML.escape(try reader.staticGroups(of: thing.name).joined(separator: ", ")),
                        HTML.escape(try versions.installed(executions, in: reader) ?? "—"),
                        HTML.time(thing.lastSeenAt), mqtt.isConnected(clientID: thing.name) ? "yes" : "no",
                        current.map { HTML.escape("\($0.jobID) \($0.status.rawValue)") } ?? "",
                    ]
                }
                return (rows, matching.count)
            }
            let pager = Self.pager(
                "/console/fleet?q=\(HTML.component(query))&amp;", page: page, total: total, noun: "things")
            let body = """
                <form method="get" action="/console/fleet" role="search"><label>Find things
                <input name="q" value="\(HTML.escape(query))" type="search"></label> <button type="submit">Search</button></form>
                \(HTML.table(["Thing", "Groups", "Firmware", "Last seen", "Connected here", "Current job"], rows))
                \(pager)
                <p class="muted">"Connected here": to this instance; firmware: the version of the last update it took.</p>
                """
            return HTML.page(
                "Fleet", body: body, principal: context.principal, csrf: context.csrfToken, section: "fleet")
        }
        pages.get("things/:name") { _, context in
            let name = try context.name("name")
            let principal = try Self.principal(context)
            let found = try await server.store.read {
                reader -> (Thing, [String], [DeviceCertificate], [JobExecution])? in
                guard let thing = try reader.thing(named: name) else { return nil }
                return (
                    thing, try reader.staticGroups(of: name), try reader.certificates(of: name),
                    try reader.executions(thing: name)
                )
            }
            guard let (thing, groups, certificates, executions) = found else {
                return HTML.page(
                    "Not found", body: "<p class=\"notice error\">No thing \(HTML.escape(name)).</p>",
                    principal: principal, csrf: context.csrfToken, status: .notFound)
            }
            let certificateRows = certificates.map { certificate -> [String] in
                let revoke =
                    principal.may(.operator) && certificate.status == .active
                    ? "<form method=\"post\" action=\"/console/certificates/\(HTML.component(certificate.fingerprint))/revoke\">"
                        + HTML.hiddenCSRF(context.csrfToken)
                        + "<button class=\"danger\" type=\"submit\">Revoke</button></form>"
                    : ""
                return [
                    HTML.escape(String(certificate.fingerprint.prefix(16)) + "…"),
                    HTML.escape(certificate.status.rawValue), HTML.time(certificate.notAfter), revoke,
                ]
            }
            let history = executions.reversed().map { execution in
                [
                    "<a href=\"/console/updates/\(HTML.component(String(execution.jobID.dropFirst("AFR_OTA-".count))))\">\(HTML.escape(execution.jobID))</a>",
                    HTML.escape(execution.status.rawValue), HTML.time(execution.lastUpdatedAt),
                    HTML.escape(execution.statusDetails ?? ""),
                ]
            }
            let attributes = thing.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let body = """
                <p>Attributes: \(HTML.escape(attributes.isEmpty ? "none" : attributes.joined(separator: ", ")))
                · groups: \(HTML.escape(groups.isEmpty ? "none" : groups.joined(separator: ", ")))
                · last seen \(HTML.time(thing.lastSeenAt))
                · \(server.mqtt.isConnected(clientID: name) ? "connected to this instance" : "not connected here")</p>
                <h2>Certificates</h2>
                \(HTML.table(["Fingerprint", "Status", "Valid until", ""], certificateRows))
                <h2>Jobs</h2>
                \(HTML.table(["Job", "Status", "Changed", "Details"], history))
                <p class="muted">Slots as the device reports them are not shown: the AWS job protocol carries no slot
                report (<code>ota simulate device --json</code> shows a simulated device's).</p>
                """
            return HTML.page(
                "Thing \(name)", body: body, principal: principal, csrf: context.csrfToken, section: "fleet")
        }
        pages.post("certificates/:fingerprint/revoke") { request, context in
            let fingerprint = try context.name("fingerprint")
            _ = try await Self.form(request, context)
            return try await change(
                request, context, action: "/console/certificates/{fingerprint}/revoke", needs: .operator,
                subject: AuditSubject(kind: "certificate", id: fingerprint)
            ) {
                let revoked = try await server.registry.revoke(fingerprint: fingerprint)
                return HTML.redirect(to: "/console/things/" + HTML.component(revoked.thingName))
            }
        }
        pages.get("groups") { _, context in
            let rows = try await server.store.read { reader in
                try reader.groups().map { group -> [String] in
                    [
                        "<a href=\"/console/groups/\(HTML.component(group.name))\">\(HTML.escape(group.name))</a>",
                        group.isDynamic ? "dynamic: " + HTML.escape(group.query ?? "") : "static",
                        String(try Registry.members(of: group, in: reader).count), HTML.escape(group.description),
                    ]
                }
            }
            let body =
                rows.isEmpty
                ? "<p class=\"notice\">No groups yet: <code>ota groups create NAME [--query attr=value]</code>.</p>"
                : HTML.table(["Group", "Kind", "Members", "Description"], rows)
            return HTML.page(
                "Groups", body: body, principal: context.principal, csrf: context.csrfToken, section: "groups")
        }
        pages.get("groups/:name") { request, context in
            let name = try context.name("name")
            let page = Self.page(request)
            let found = try await server.store.read { reader -> (ThingGroup, [String])? in
                guard let group = try reader.group(named: name) else { return nil }
                return (group, try Registry.members(of: group, in: reader))
            }
            guard let (group, members) = found else {
                return HTML.page(
                    "Not found", body: "<p class=\"notice error\">No group \(HTML.escape(name)).</p>",
                    principal: context.principal, csrf: context.csrfToken, status: .notFound)
            }
            let kind =
                group.isDynamic
                ? "Dynamic: things whose attributes match <code>\(HTML.escape(group.query ?? ""))</code>, now and as they change."
                : "Static: things added by name."
            let shown = members.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)
            let rows = shown.map { ["<a href=\"/console/things/\(HTML.component($0))\">\(HTML.escape($0))</a>"] }
            let pager = Self.pager(
                "/console/groups/\(HTML.component(name))?", page: page, total: members.count, noun: "members")
            let body = "<p>\(kind)</p>" + HTML.table(["Thing"], rows) + pager
            return HTML.page(
                "Group \(name)", body: body, principal: context.principal, csrf: context.csrfToken, section: "groups")
        }
    }
}

extension Console {
    /// The `page` query parameter, 1 when absent or not a positive number.
    static func page(_ request: Request) -> Int {
        // Bounded, so that the offset (page × page size) cannot overflow whatever a client asks for.
        min(max(Int(request.uri.queryParameters["page"] ?? "1") ?? 1, 1), 1_000_000)
    }

    /// Previous / next links around "Page n of m"; `base` ends with `?` or `&amp;`.
    static func pager(_ base: String, page: Int, total: Int, noun: String) -> String {
        let pages = max((total + pageSize - 1) / pageSize, 1)
        func link(_ number: Int, _ label: String) -> String { "<a href=\"\(base)page=\(number)\">\(label)</a>" }
        return "<p class=\"pager\">" + (page > 1 ? link(min(page - 1, pages), "← Previous") : "")
            + "<span>Page \(min(page, pages)) of \(pages) · \(total) \(noun)</span>"
            + (page < pages ? link(page + 1, "Next →") : "") + "</p>"
    }
}

/// The firmware version a thing last installed: the version of the file of its latest SUCCEEDED update, looked up
/// once per job while a page is built.
struct FirmwareVersions {
    private var byJob: [String: String?] = [:]

    mutating func installed(_ executions: [JobExecution], in reader: any StoreReader) throws -> String? {
        guard let job = executions.last(where: { $0.status == .succeeded })?.jobID else { return nil }
        if let known = byJob[job] { return known }
        let version = try reader.job(id: job).flatMap { try reader.file(id: $0.fileID) }?.version
        byJob[job] = version
        return version
    }
}
