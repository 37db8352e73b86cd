import ArgumentParser
import CodeSigning
import Crypto
import ESP32Formats
import Foundation
import OTAService

/// `ota updates` — OTA updates: a file, targets, rollout and abort rules; each creates job AFR_OTA-<id>.
struct UpdatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "updates", abstract: "Create, list, inspect and cancel OTA updates.",
        subcommands: [List.self, Create.self, Show.self, Cancel.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List updates.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let updates: [OTAUpdate] = try await connection.withClient { try await $0.get("/updates") }
            try output.emit(updates) {
                updates.isEmpty
                    ? "No updates yet: ota updates create ID --file FILE_ID --profile NAME --group GROUP"
                    : updates.map {
                        "\($0.id)  job \($0.jobID)  file \($0.fileID.prefix(16))…  \(timestamp($0.createdAt))"
                    }
                    .joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an update: the service signs the file (or verifies --signature) and starts the rollout.")
        @Argument(help: "Update id: 1–56 of a-z A-Z 0-9 _ -; the job is AFR_OTA-<id>.") var id: String
        @Option(help: "Stored file id (ota files list), or the path of a local copy of the uploaded file.")
        var file: String
        @Option(help: "Signing profile.") var profile: String
        @Option(name: .customLong("thing"), help: "Target thing (repeatable).") var things: [String] = []
        @Option(name: .customLong("group"), help: "Target group (repeatable).") var groups: [String] = []
        @Flag(help: "Things that join a target group later (or are re-provisioned) get the update too.")
        var continuous = false
        @Option(help: "Rollout: at most this many new executions per minute.") var maxPerMinute: Int?
        @Option(help: "Exponential rollout: base:factor:notified (e.g. 10:2:50).") var exponential: String?
        @Option(help: "Abort when TYPE:PERCENT:MINIMUM holds, e.g. FAILED:20:10 (repeatable).") var abort: [String] = []
        @Option(help: "Executions IN_PROGRESS longer than this many minutes become TIMED_OUT.") var timeoutMinutes: Int?
        @Option(help: "Base64 DER signature made by you; the service verifies it against the profile.")
        var signature: String?
        @Option(help: "File type (0 firmware; others are data files: no reboot).") var fileType: Int?
        @Option(
            help: ArgumentHelp(
                "Where the device stores the file: the job document's filepath (AWS: fileName).",
                discussion: "Default: the uploaded file's name. The FreeRTOS POSIX port writes the image to this "
                    + "path; the ESP32 port writes the passive OTA slot and ignores it."))
        var filePath: String?
        @Option(
            help: ArgumentHelp(
                "How devices fetch the file: mqtt (stream blocks), http (a short-lived HTTPS URL) or both.",
                discussion: "With http, every job document a device receives carries a fresh URL: an S3 presigned "
                    + "GET when the file lives in a bucket, else a signed URL on the service's HTTPS port."))
        var `protocol`: DeliveryProtocol = .mqtt
        @Option(help: "Description.") var description: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            // Files are content-addressed: a local copy names the stored file by its SHA-256.
            let fileID =
                FileManager.default.fileExists(atPath: file)
                ? hexString(SHA256.hash(data: try Files.read(file))) : file
            var body: [String: Any] = ["id": id, "fileID": fileID, "signingProfile": profile]
            if !things.isEmpty { body["things"] = things }
            if !groups.isEmpty { body["groups"] = groups }
            if continuous { body["targetSelection"] = "CONTINUOUS" }
            var rollout: [String: Any] = [:]
            if let maxPerMinute { rollout["maximumPerMinute"] = maxPerMinute }
            if let exponential { rollout["exponentialRate"] = try parseExponential(exponential) }
            if !rollout.isEmpty { body["rollout"] = rollout }
            if !abort.isEmpty { body["abortCriteria"] = try abort.map(parseAbort) }
            if let timeoutMinutes { body["inProgressTimeoutMinutes"] = timeoutMinutes }
            if let signature { body["signature"] = signature }
            if let fileType { body["fileType"] = fileType }
            if let filePath { body["fileName"] = filePath }
            if let description { body["description"] = description }
            body["protocols"] = `protocol`.protocols
            let update: UpdateView = try await connection.withClient {
                try await $0.send(.POST, "/updates", json: body)
            }
            try output.emit(update) {
                "Created update \(update.update.id) (job \(update.update.jobID))\n" + describe(update)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An update, its job and its progress.")
        @Argument var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let update: UpdateView = try await connection.withClient { try await $0.get("/updates/" + pathSegment(id)) }
            try output.emit(update) { "\(update.update.id) (job \(update.update.jobID))\n" + describe(update) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel an update: queued executions are canceled (and running ones with --force).")
        @Argument var id: String
        @Flag(help: "Also cancel executions devices are working on.") var force = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let update: UpdateView = try await connection.withClient {
                try await $0.send(.POST, "/updates/\(pathSegment(id))/cancel", json: ["force": force])
            }
            try output.emit(update) { "Canceled \(update.update.id)\n" + describe(update) }
        }
    }
}

private func describe(_ update: UpdateView) -> String {
    var lines: [String] = []
    if let job = update.job {
        lines.append("  job \(job.status.rawValue)" + (job.reason.map { " (\($0))" } ?? ""))
    }
    if let progress = update.progress { lines.append("  " + progressText(progress)) }
    return lines.joined(separator: "\n")
}

func progressText(_ progress: JobProgress) -> String {
    "pending \(progress.pending)  queued \(progress.queued)  in progress \(progress.inProgress)  "
        + "succeeded \(progress.succeeded)  failed \(progress.failed)  rejected \(progress.rejected)  "
        + "timed out \(progress.timedOut)  canceled \(progress.canceled)  removed \(progress.removed)"
}

func parseAbort(_ text: String) throws -> [String: Any] {
    let criterion = try RolloutText.abortCriterion(text)
    return [
        "failureType": criterion.failureType.rawValue, "thresholdPercentage": criterion.thresholdPercentage,
        "minNumberOfExecutedThings": criterion.minNumberOfExecutedThings,
    ]
}

func parseExponential(_ text: String) throws -> [String: Any] {
    let rate = try RolloutText.exponentialRate(text)
    return [
        "baseRatePerMinute": rate.baseRatePerMinute, "incrementFactor": rate.incrementFactor,
        "numberOfNotifiedThings": rate.numberOfNotifiedThings ?? 0,
    ]
}

/// `--protocol` of `ota updates create`.
enum DeliveryProtocol: String, ExpressibleByArgument, CaseIterable {
    case mqtt, http, both

    /// The job document's `protocols`.
    var protocols: [String] {
        switch self {
        case .mqtt: ["MQTT"]
        case .http: ["HTTP"]
        case .both: ["MQTT", "HTTP"]
        }
    }
}
