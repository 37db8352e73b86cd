import Foundation

/// Runs tools nobody here wrote (esptool, espsecure, openssl, the ESP-IDF partition generator) for interop tests.
/// A missing tool is a test failure that names it and says how to get it — never a silent skip.
public enum ExternalTools {
    public struct Missing: Error, CustomStringConvertible {
        public let tool: String
        public var description: String {
            "\(tool) is not installed; run scripts/test (it installs the interop tools: Debian packages and a "
                + "Python venv in .venv-tools/) or set OTA_TOOLS_VENV to a venv that has esptool and esp-idf-defs"
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public let command: String
        public let result: Result
        public var description: String {
            "\(command) exited \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
        }
    }

    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The repository root, found from this file's location (Tests/TestSupport/ExternalTools.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python venv with esptool, espsecure and esp-idf-defs that scripts/test creates.
    public static var venv: URL {
        if let override = ProcessInfo.processInfo.environment["OTA_TOOLS_VENV"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.appendingPathComponent(".venv-tools")
    }

    /// A program from the tools venv, or from PATH for system tools.
    public static func locate(_ name: String) throws -> String {
        if name.hasPrefix("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else { throw Missing(tool: name) }
            return name
        }
        let inVenv = venv.appendingPathComponent("bin").appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: inVenv) { return inVenv }
        // Daemons such as mosquitto live in sbin, which a non-root PATH may leave out.
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Missing(tool: name)
    }

    /// Runs `name args`, returning its status and output; throws only when the program cannot be found or started.
    /// `environment`, when given, replaces this process's environment for the tool.
    ///
    /// Async, the child waited for on a thread of its own (offThePool): the whole suite runs at once, and a test
    /// that held one of Swift concurrency's threads (two on a 2-core machine) through a minute-long tool run would
    /// stop every other test for that minute.
    @discardableResult
    public static func run(
        _ name: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil
    ) async throws -> Result {
        let path = try locate(name)
        return try await offThePool {
            let child = try SpawnedChild(path, arguments, stdin: stdin, mergeError: false, environment: environment)
            let (output, error) = child.readAll()
            return Result(
                status: child.wait(), stdout: String(decoding: output, as: UTF8.self),
                stderr: String(decoding: error, as: UTF8.self))
        }
    }

    /// Runs and requires exit status 0.
    @discardableResult
    public static func check(
        _ name: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil
    ) async throws -> Result {
        let result = try await run(name, arguments, stdin: stdin, environment: environment)
        guard result.status == 0 else {
            throw Failed(command: ([name] + arguments).joined(separator: " "), result: result)
        }
        return result
    }

    /// Runs a Python snippet with the tools venv's interpreter (where esp-idf-defs lives), requiring success.
    @discardableResult
    public static func python(_ script: String, _ arguments: [String] = []) async throws -> Result {
        let interpreter = venv.appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: interpreter) else {
            throw Missing(tool: "the Python tools venv (\(venv.path))")
        }
        return try await check(interpreter, ["-c", script] + arguments)
    }
}
