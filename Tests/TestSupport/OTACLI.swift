import Foundation

/// Runs the built `ota` executable, the way a person would from a shell.
public enum OTACLI {
    /// `ota` sits next to the test bundle in the build directory (`swift test` builds every product).
    public static var executable: String {
        get throws {
            let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("ota").path
            for candidate in [besideTests, ExternalTools.packageRoot.appendingPathComponent(".build/debug/ota").path]
            where FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            throw ExternalTools.Missing(tool: "the ota executable (run swift build first)")
        }
    }

    @discardableResult
    public static func run(_ arguments: [String], in directory: TemporaryDirectory? = nil) async throws
        -> ExternalTools.Result
    {
        try await ExternalTools.run(try executable, arguments.map { directory?.resolve($0) ?? $0 })
    }
}

extension TemporaryDirectory {
    /// Arguments of the form `@name` become paths inside this directory.
    func resolve(_ argument: String) -> String {
        argument.hasPrefix("@") ? path(String(argument.dropFirst())) : argument
    }
}
