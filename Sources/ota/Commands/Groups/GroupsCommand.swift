import ArgumentParser
import Foundation
import OTAService

/// `ota groups` — static and dynamic thing groups.
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups", abstract: "List, create and inspect thing groups; add and remove members.",
        subcommands: [List.self, Create.self, Show.self, Add.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let groups: [ThingGroup] = try await connection.withClient { try await $0.get("/groups") }
            try output.emit(groups) {
                groups.isEmpty
                    ? "No groups yet: ota groups create NAME [--query 'attr=value AND ...']"
                    : groups.map { "\($0.name)  " + ($0.query.map { "dynamic: \($0)" } ?? "static") }
                        .joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a static group, or a dynamic one with --query.")
        @Argument var name: String
        @Option(help: "Members are the things whose attributes match: 'region=eu AND model=v2'.") var query: String?
        @Option(help: "Free text.") var description: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var body: [String: Any] = ["name": name]
            if let query { body["query"] = query }
            if let description { body["description"] = description }
            let group: ThingGroup = try await connection.withClient { try await $0.send(.POST, "/groups", json: body) }
            try output.emit(group) { "Created \(group.isDynamic ? "dynamic" : "static") group \(group.name)" }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A group and its members.")
        @Argument var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let group: GroupView = try await connection.withClient { try await $0.get("/groups/" + pathSegment(name)) }
            try output.emit(group) {
                "\(group.name)  " + (group.query.map { "dynamic: \($0)" } ?? "static")
                    + "\n  \(group.members.count) members"
                    + (group.members.isEmpty ? "" : ": " + group.members.prefix(50).joined(separator: ", "))
                    + (group.members.count > 50 ? ", …" : "")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a thing to a static group (continuous updates of the group reach it).")
        @Argument var group: String
        @Argument var thing: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withClient {
                try await $0.send(.POST, "/groups/\(pathSegment(group))/members", json: ["thing": thing])
            }
            print("Added \(thing) to \(group)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a thing from a static group.")
        @Argument var group: String
        @Argument var thing: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withClient {
                try await $0.send(.DELETE, "/groups/\(pathSegment(group))/members/\(pathSegment(thing))")
            }
            print("Removed \(thing) from \(group)")
        }
    }
}
