import ArgumentParser
import CodeSigning
import Foundation
import OTAService

/// `ota things` — the registry's things and their certificates.
struct ThingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "things",
        abstract: "List, create and inspect things; issue, register and revoke their certificates.",
        subcommands: [
            List.self, Create.self, Show.self, SetAttributes.self, IssueCertificate.self, RegisterCertificate.self,
            Revoke.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List things.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let things: [Thing] = try await connection.withClient { try await $0.get("/things") }
            try output.emit(things) {
                things.isEmpty
                    ? "No things yet: ota things create NAME"
                    : things.map {
                        "\($0.name)  last seen \(timestamp($0.lastSeenAt))  \(attributeText($0.attributes))"
                    }
                    .joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a thing.")
        @Argument(help: "Thing name: 1–128 of a-z A-Z 0-9 : _ -") var name: String
        @Option(name: .customLong("attribute"), help: "key=value (repeatable).") var attributes: [String] = []
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let body: [String: Any] = ["name": name, "attributes": try parseAttributes(attributes)]
            let thing: Thing = try await connection.withClient { try await $0.send(.POST, "/things", json: body) }
            try output.emit(thing) { "Created thing \(thing.name)" }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A thing with its groups and certificates.")
        @Argument var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let thing: ThingView = try await connection.withClient { try await $0.get("/things/" + pathSegment(name)) }
            try output.emit(thing) {
                var lines = [
                    thing.name, "  attributes  \(attributeText(thing.attributes))",
                    "  groups      \(thing.groups.joined(separator: ", "))",
                    "  last seen   \(timestamp(thing.lastSeenAt))",
                ]
                for certificate in thing.certificates {
                    lines.append(
                        "  certificate \(certificate.fingerprint) \(certificate.status.rawValue) until \(timestamp(certificate.notAfter))"
                    )
                }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct SetAttributes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a thing's attributes (dynamic groups follow; continuous updates reach new members).")
        @Argument var name: String
        @Argument(help: "key=value ...") var attributes: [String] = []
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let body: [String: Any] = ["attributes": try parseAttributes(attributes)]
            let thing: Thing = try await connection.withClient {
                try await $0.send(.PATCH, "/things/" + pathSegment(name), json: body)
            }
            try output.emit(thing) { "\(thing.name): \(attributeText(thing.attributes))" }
        }
    }

    struct IssueCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-certificate",
            abstract: "Issue a device certificate from the service CA and write it with its key and the CA.")
        @Argument var name: String
        @Option(help: "Directory to write <name>.pem, <name>.key (0600, unless --csr) and ca.pem into.")
        var out: String
        @Option(help: "A PEM CSR made on the device; the service then never sees the key.") var csr: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var body: [String: Any] = [:]
            if let csr { body["csr"] = String(decoding: try Files.read(csr), as: UTF8.self) }
            let issued: IssuedCertificateView = try await connection.withClient {
                try await $0.send(.POST, "/things/\(pathSegment(name))/certificates", json: body)
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Files.write(Array(issued.certificatePEM.utf8), to: out + "/\(name).pem")
            try Files.write(Array(issued.caCertificatePEM.utf8), to: out + "/ca.pem")
            if let key = issued.privateKeyPEM {
                try writePrivate(Array(key.utf8), to: out + "/\(name).key")
            }
            try output.emit(issued.fingerprint) {
                "Wrote \(out)/\(name).pem" + (issued.privateKeyPEM == nil ? "" : ", \(out)/\(name).key (0600)")
                    + " and \(out)/ca.pem\n  fingerprint \(issued.fingerprint)"
            }
        }
    }

    struct RegisterCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-certificate",
            abstract: "Register a certificate the device brought (from a factory CA, or self-signed) for a thing.",
            discussion: """
                The device may then connect with it, as this thing only: its MQTT client id must be the thing's name, \
                whatever the certificate's CN says. A certificate that chains to a CA registered with `ota ca register` \
                is refused while that CA is inactive; any other registered certificate is trusted as it is (AWS IoT's \
                "without CA"). Applies to new connections at once.
                """)
        @Argument(help: "The thing the certificate identifies.") var name: String
        @Argument(help: "The device certificate (PEM).") var certificate: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let pem = String(decoding: try Files.read(certificate), as: UTF8.self)
            let registered: CertificateView = try await connection.withClient {
                try await $0.send(
                    .POST, "/things/\(pathSegment(name))/certificates/register", json: ["certificatePEM": pem])
            }
            try output.emit(registered) { "Registered certificate \(registered.fingerprint) for \(name)" }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a certificate: it can no longer connect.")
        @Argument(help: "The certificate's SHA-256 fingerprint (ota things show NAME).") var fingerprint: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let certificate: CertificateView = try await connection.withClient {
                try await $0.send(.POST, "/certificates/\(pathSegment(fingerprint))/revoke")
            }
            try output.emit(certificate) { "Revoked \(certificate.fingerprint)" }
        }
    }
}

func parseAttributes(_ pairs: [String]) throws -> [String: String] {
    var attributes: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw CLIError("attribute '\(pair)' must be key=value")
        }
        attributes[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return attributes
}

func attributeText(_ attributes: [String: String]) -> String {
    attributes.isEmpty
        ? "-" : attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
}

/// Writes a secret with mode 0600 from the start (never world-readable, not even briefly).
func writePrivate(_ bytes: [UInt8], to path: String) throws {
    try KeyFiles.writeFile(bytes, to: path, mode: 0o600)
}
