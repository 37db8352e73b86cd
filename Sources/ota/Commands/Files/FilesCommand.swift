import ArgumentParser
import CodeSigning
import Foundation
import OTAService

/// `ota files` — the content-addressed file store; `ota files profiles` — signing profiles.
struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Upload and list firmware and partition files; manage signing profiles.",
        subcommands: [List.self, Upload.self, Import.self, Show.self, Profiles.self, CreateProfile.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored files.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let files: [StoredFile] = try await connection.withClient { try await $0.get("/files") }
            try output.emit(files) {
                files.isEmpty ? "No files yet: ota files upload PATH" : files.map(describe).joined(separator: "\n")
            }
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a file: an app image (validated, version recorded) or any partition's content.")
        @Argument var path: String
        @Option(help: "app (an ESP-IDF app image) or data (filesystem, configuration, …).") var kind = "app"
        @Option(help: "Name to record; the file's name by default.") var name: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let bytes = try Files.read(path)
            let fileName = name ?? URL(fileURLWithPath: path).lastPathComponent
            let query =
                "?name=\(fileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file")&kind=\(kind)"
            let file: StoredFile = try await connection.withClient {
                try await $0.send(.POST, "/files" + query, bytes: bytes)
            }
            try output.emit(file) { "Uploaded " + describe(file) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Take in an object already in the service's S3 bucket (a CI artifact) without downloading it here.",
            discussion: "The service reads the object once, validates it like an upload and keeps it content-"
                + "addressed beside the uploads, so overwriting the CI path later changes nothing devices receive. "
                + "Needs `ota serve --file-store s3://…`; objects of other buckets are refused.")
        @Argument(help: "s3://BUCKET/KEY") var url: String
        @Option(help: "app (an ESP-IDF app image) or data (filesystem, configuration, …).") var kind = "app"
        @Option(help: "Name to record; the key's last component by default.") var name: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var body: [String: Any] = ["url": url, "kind": kind]
            if let name { body["name"] = name }
            let file: StoredFile = try await connection.withClient {
                try await $0.send(.POST, "/files/import", json: body)
            }
            try output.emit(file) { "Imported " + describe(file) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One stored file.")
        @Argument(help: "The file id (SHA-256 hex).") var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let file: StoredFile = try await connection.withClient { try await $0.get("/files/" + pathSegment(id)) }
            try output.emit(file) { describe(file) }
        }
    }

    struct Profiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "profiles", abstract: "List signing profiles.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let profiles: [SigningProfileView] = try await connection.withClient {
                try await $0.get("/signing-profiles")
            }
            try output.emit(profiles) {
                profiles.isEmpty
                    ? "No signing profiles yet: ota files create-profile NAME --generate-key"
                    : profiles.map {
                        "\($0.name)  \($0.algorithm)  " + ($0.signsForYou ? "signs for you" : "custom signatures only")
                    }.joined(separator: "\n")
            }
        }
    }

    struct CreateProfile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-profile",
            abstract: "Create a signing profile from a code-signing certificate (and key), or with a generated key.")
        @Argument var name: String
        @Flag(help: "Generate a key on the service and a self-signed certificate (demos).") var generateKey = false
        @Option(help: "PEM code-signing certificate devices verify with.") var certificate: String?
        @Option(
            help: ArgumentHelp(
                "The private key for sign-it-for-me, in the service's key store (mode 0600).",
                discussion: "Relative to DATA/signing (or ota serve --signing-key-dir), or an absolute path in it."))
        var keyPath: String?
        @Option(
            help: ArgumentHelp(
                "The code-signing certificate's path or label on the device: the job document's certfile.",
                discussion: "AWS: certificatePathOnDevice. Default \"Code Verify Key\", the PKCS#11 label the ESP32 "
                    + "port of the FreeRTOS agent reads; the POSIX port reads a file at this path."))
        var certificatePathOnDevice: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var body: [String: Any] = ["name": name]
            if generateKey { body["generateKey"] = true }
            if let certificate { body["certificatePEM"] = String(decoding: try Files.read(certificate), as: UTF8.self) }
            if let keyPath { body["keyPath"] = keyPath }
            if let certificatePathOnDevice { body["certificatePathOnDevice"] = certificatePathOnDevice }
            let profile: SigningProfileView = try await connection.withClient {
                try await $0.send(.POST, "/signing-profiles", json: body)
            }
            try output.emit(profile) { "Created signing profile \(profile.name)" }
        }
    }
}

private func describe(_ file: StoredFile) -> String {
    var text = "\(file.id.prefix(16))…  \(file.kind.rawValue)  \(file.size) bytes  \(file.name)"
    if let version = file.version { text += "  version \(version)" }
    if let secureVersion = file.secureVersion { text += "  secure_version \(secureVersion)" }
    if let location = file.location { text += "  in \(location)" }
    return text
}
