import ArgumentParser
import CodeSigning
import Foundation
import OTAService

// `ota ca register | list | deactivate | activate`: CAs registered with a running service, whose device
// certificates may connect once each is registered to a thing (`ota things register-certificate`). The other
// `ota ca` commands work on a local CA directory; these talk to the management API.

struct CARegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a CA with the service: certificates it issued connect once registered to a thing.",
        discussion: """
            Registration applies at once to new connections; no restart. Each device certificate the CA issued must \
            still be registered to its thing (ota things register-certificate THING CERT.pem), which names the \
            thing the device is: its MQTT client id must be that thing, whatever the certificate's CN says.
            """)
    @Argument(help: "The CA certificate (PEM).") var certificate: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let pem = String(decoding: try Files.read(certificate), as: UTF8.self)
        let authority: CACertificate = try await connection.withClient {
            try await $0.send(.POST, "/ca-certificates", json: ["certificatePEM": pem])
        }
        try output.emit(authority) { "Registered CA \(authority.fingerprint)\n  \(caLine(authority))" }
    }
}

struct CAListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the CAs registered with the service (the service CA is not listed).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let authorities: [CACertificate] = try await connection.withClient { try await $0.get("/ca-certificates") }
        try output.emit(authorities) {
            authorities.isEmpty
                ? "No registered CAs: ota ca register CA.pem"
                : authorities.map { "\($0.fingerprint)\n  \(caLine($0))" }.joined(separator: "\n")
        }
    }
}

struct CADeactivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deactivate",
        abstract: "Deactivate a registered CA: devices whose certificates chain to it are refused from now on.")
    @OptionGroup var target: CAStatusChange

    func run() async throws { try await target.set("deactivate") }
}

struct CAActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate", abstract: "Activate a deactivated CA again.")
    @OptionGroup var target: CAStatusChange

    func run() async throws { try await target.set("activate") }
}

/// What `deactivate` and `activate` share: which CA, and how its new state is reported.
struct CAStatusChange: ParsableArguments {
    @Argument(help: "The CA's SHA-256 fingerprint (ota ca list).") var fingerprint: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func set(_ action: String) async throws {
        let authority: CACertificate = try await connection.withClient {
            try await $0.send(.POST, "/ca-certificates/\(pathSegment(fingerprint))/\(action)")
        }
        try output.emit(authority) { "CA \(authority.fingerprint) is \(authority.status.rawValue)" }
    }
}

func caLine(_ authority: CACertificate) -> String {
    "\(authority.status.rawValue)  \(authority.subject)  until \(timestamp(authority.notAfter))"
}
