import ArgumentParser
import Foundation
import OTAService

/// `ota jobs` — the jobs updates created and their executions.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List jobs, watch their executions, cancel them.",
        subcommands: [List.self, Show.self, Executions.self, Cancel.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs with their progress.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let jobs: [JobView] = try await connection.withClient { try await $0.get("/jobs") }
            try output.emit(jobs) {
                jobs.isEmpty
                    ? "No jobs yet: each OTA update creates one (ota updates create)"
                    : jobs.map { "\($0.job.id)  \($0.job.status.rawValue)\n  \(progressText($0.progress))" }
                        .joined(separator: "\n")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A job and its progress.")
        @Argument var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let view: JobView = try await connection.withClient { try await $0.get("/jobs/" + pathSegment(id)) }
            try output.emit(view) {
                "\(view.job.id)  \(view.job.status.rawValue)" + (view.job.reason.map { " (\($0))" } ?? "")
                    + "\n  stream \(view.job.streamID)  \(view.job.selection.rawValue)\n  \(progressText(view.progress))"
            }
        }
    }

    struct Executions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A job's executions: one line per thing.")
        @Argument var id: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let executions: [JobExecution] = try await connection.withClient {
                try await $0.get("/jobs/\(pathSegment(id))/executions")
            }
            try output.emit(executions) {
                executions.isEmpty
                    ? "No executions yet"
                    : executions.map {
                        "\($0.thingName)  #\($0.executionNumber)  \($0.status.rawValue)  v\($0.versionNumber)  "
                            + ($0.statusDetails ?? "")
                    }.joined(separator: "\n")
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (running executions too with --force).")
        @Argument var id: String
        @Flag(help: "Also cancel executions devices are working on.") var force = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let view: JobView = try await connection.withClient {
                try await $0.send(.POST, "/jobs/\(pathSegment(id))/cancel", json: ["force": force])
            }
            try output.emit(view) { "Canceled \(view.job.id)\n  \(progressText(view.progress))" }
        }
    }
}
