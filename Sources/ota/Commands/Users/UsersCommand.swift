import ArgumentParser
import CodeSigning
import Foundation
import OTAService

/// `ota users` — operator accounts, their roles and API tokens (admin only, except an account's own tokens).
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Operator accounts: create, list, disable, set roles and passwords, issue and revoke API tokens.",
        discussion: """
            Roles: viewer (reads), operator (uploads, creates and cancels updates, manages things and groups),
            admin (also accounts, CAs, signing profiles, keys and the audit trail). A token is shown once;
            `token create --out FILE` writes it with mode 0600 for `--token-file FILE`.
            """,
        subcommands: [
            List.self, Create.self, SetRole.self, Disable.self, Enable.self, SetPassword.self, TokenCommand.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let accounts: [AccountView] = try await connection.withClient { try await $0.get("/users") }
            try output.emit(accounts) {
                accounts.isEmpty
                    ? "No accounts yet: ota users create NAME --role viewer|operator|admin"
                    : accounts.map(describe).joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")
        @Argument(help: "Account name: 1–64 of a-z A-Z 0-9 . _ -") var name: String
        @Option(help: "viewer, operator or admin.") var role: OperatorRole
        @Flag(help: "Read a password (12 characters or more) from standard input, for the console's login.")
        var passwordStdin = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var body: [String: Any] = ["name": name, "role": role.rawValue]
            if passwordStdin { body["password"] = try readPassword() }
            let account: AccountView = try await connection.withClient {
                try await $0.send(.POST, "/users", json: body)
            }
            try output.emit(account) { "Created account \(describe(account))" }
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an account's role (at once, everywhere).")
        @Argument var name: String
        @Argument(help: "viewer, operator or admin.") var role: OperatorRole
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await change(name, ["role": role.rawValue], connection, output)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account: its tokens and sessions stop working at once; its audit entries stay.")
        @Argument var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws { try await change(name, ["disabled": true], connection, output) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account again.")
        @Argument var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws { try await change(name, ["disabled": false], connection, output) }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an account's password from standard input (--remove: API tokens only).")
        @Argument var name: String
        @Flag(help: "Remove the password instead.") var remove = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await change(name, ["password": remove ? "" : try readPassword()], connection, output)
        }
    }
}

/// `ota users token` — an account's API tokens.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, list and revoke an account's API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; it is shown once.")
        @Argument var name: String
        @Option(help: "What the token is for (a laptop, a CI job).") var label = ""
        @Option(help: "Write the token to this file (mode 0600) instead of printing it.") var out: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let issued: IssuedTokenView = try await connection.withClient {
                try await $0.send(.POST, "/users/\(pathSegment(name))/tokens", json: ["label": label])
            }
            if let out {
                try KeyFiles.writeFile(Array((issued.token + "\n").utf8), to: out, mode: 0o600)
                print("Token \(issued.id) for \(issued.account) written to \(out) (mode 0600): use --token-file \(out)")
                return
            }
            try output.emit(issued) {
                "Token \(issued.id) for \(issued.account) (shown once, keep it like a password):\n\(issued.token)"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's tokens (never the tokens themselves).")
        @Argument var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let tokens: [TokenView] = try await connection.withClient {
                try await $0.get("/users/\(pathSegment(name))/tokens")
            }
            try output.emit(tokens) {
                tokens.isEmpty
                    ? "\(name) has no tokens"
                    : tokens.map { token in
                        let state = token.revokedAt.map { "revoked \(timestamp($0))" } ?? "active"
                        return "\(token.id)  \(state)  created \(timestamp(token.createdAt))  \(token.label)"
                    }.joined(separator: "\n")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it stops working at once.")
        @Argument var name: String
        @Argument var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let token: TokenView = try await connection.withClient {
                try await $0.send(.POST, "/users/\(pathSegment(name))/tokens/\(pathSegment(id))/revoke")
            }
            try output.emit(token) { "Revoked token \(token.id) of \(name)" }
        }
    }
}

extension OperatorRole: ExpressibleByArgument {}

private func describe(_ account: AccountView) -> String {
    var flags: [String] = []
    if account.disabled { flags.append("disabled") }
    flags.append(account.hasPassword ? "password" : "tokens only")
    return "\(account.name)  \(account.role.rawValue)  \(flags.joined(separator: ", "))"
}

private func change(
    _ name: String, _ body: [String: Any], _ connection: ConnectionOptions, _ output: OutputOptions
) async throws {
    let account: AccountView = try await connection.withClient {
        try await $0.send(.PATCH, "/users/\(pathSegment(name))", json: body)
    }
    try output.emit(account) { "Account \(describe(account))" }
}

/// The first line of standard input, without its newline.
private func readPassword() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw CLIError("no password on standard input")
    }
    return line
}
