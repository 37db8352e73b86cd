import Hummingbird

// /console/audit (admin): the audit trail, newest first, a page at a time.

extension Console {
    func addAuditPage(to pages: RouterGroup<APIRequestContext>) {
        let server = server
        pages.get("audit") { request, context in
            let principal = try Self.principal(context)
            guard principal.may(.admin) else {
                let entry = server.audit.entry(principal, source: context.remoteAddress, action: "GET /console/audit")
                return await refuse(entry, context, needs: .admin)
            }
            let before = Int64(request.uri.queryParameters["before"] ?? "") ?? Int64.max
            let entries = try await server.store.read {
                try $0.latestAuditEntries(before: before, limit: Self.pageSize)
            }
            let rows = entries.map { entry in
                [
                    String(entry.sequence ?? 0), HTML.time(entry.at),
                    HTML.escape("\(entry.actor) (\(entry.role))"), HTML.escape(entry.source), HTML.escape(entry.action),
                    HTML.escape(entry.target ?? ""), String(entry.status),
                    "<details><summary>before → after</summary><pre>\(HTML.escape(entry.before ?? "—"))\n→\n\(HTML.escape(entry.after ?? "—"))</pre></details>",
                ]
            }
            let older =
                entries.count == Self.pageSize
                ? entries.last.flatMap(\.sequence).map {
                    "<p class=\"pager\"><a href=\"/console/audit?before=\($0)\">Older →</a></p>"
                } ?? "" : ""
            let body = HTML.table(["#", "When", "Who", "From", "Action", "Target", "Status", ""], rows) + older
            return HTML.page(
                "Audit trail", body: body, principal: context.principal, csrf: context.csrfToken, section: "audit")
        }
    }
}
