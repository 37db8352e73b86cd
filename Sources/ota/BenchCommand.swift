import ArgumentParser
import ESP32Formats
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures and the ratio to a baseline measured in the same run.",
        discussion: "Build in release mode for meaningful figures: swift run -c release ota bench ...",
        subcommands: [
            BenchImageCommand.self, BenchSignCommand.self, BenchMQTTCommand.self, BenchMQTTServerCommand.self,
            BenchJobsCommand.self, BenchFleetCommand.self,
        ])
}

/// Shared timing helpers: medians of repeated runs, so one descheduled run on a shared machine does not decide.
enum Timing {
    static func median(_ samples: [Duration]) -> Duration {
        let sorted = samples.sorted()
        return sorted[sorted.count / 2]
    }

    static func measure(_ iterations: Int, _ body: () throws -> Void) rethrows -> Duration {
        var samples: [Duration] = []
        for _ in 0..<iterations {
            let start = ContinuousClock.now
            try body()
            samples.append(ContinuousClock.now - start)
        }
        return median(samples)
    }

    /// Runs `path arguments` to completion with posix_spawn, output discarded. Foundation's Process costs tens of
    /// milliseconds per start here, which would drown what a baseline tool does in a few.
    static func runProcess(_ path: String, _ arguments: [String]) throws {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CLIError("cannot start \(path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw CLIError("\(([path] + arguments).joined(separator: " ")) failed (status \(status))")
        }
    }

    /// The first of /usr/bin, /bin, /usr/local/bin (and `extraDirectories`) that has `name`.
    static func locate(_ name: String, extraDirectories: [String] = []) throws -> String {
        let directories = ["/usr/bin", "/bin", "/usr/local/bin"] + extraDirectories
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw CLIError("\(name) is needed for the baseline but was not found in \(directories.joined(separator: ", "))")
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// A temporary directory for a benchmark's files, removed by `cleanUp`.
    static func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ota-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        for index in stride(from: 0, to: count, by: 8) {
            let word = generator.next()
            for offset in 0..<min(8, count - index) {
                bytes[index + offset] = UInt8(truncatingIfNeeded: word >> (offset * 8))
            }
        }
        return bytes
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static var buildConfiguration: String {
        #if DEBUG
            return "debug"
        #else
            return "release"
        #endif
    }
}

struct BenchImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Verify an app image (read, parse, checksum, SHA-256) and compare with sha256sum on the same file.",
        discussion: """
            sha256sum runs as a process, whose start-up would swamp a few milliseconds of hashing. So it is run once \
            with the file named once and once with the file named 1 + N times; the difference over N is its time per \
            file, start-up excluded. The ratio is ours over that (target: <= 1.3).
            """)

    @Option(
        help: "Image size, e.g. 4MiB.",
        transform: { text in
            guard let value = parseByteCount(text), value >= 4096 else {
                throw ValidationError("size must be at least 4KiB")
            }
            return value
        })
    var size = 4 << 20

    @Option(help: "Runs of each measurement; the median is reported.")
    var iterations = 31

    @OptionGroup var output: OutputOptions

    /// Extra copies of the file named on sha256sum's command line in the long run.
    static let repeatedFiles = 20

    struct Result: Encodable {
        let build: String
        let imageBytes: Int
        let iterations: Int
        let verifyMilliseconds: Double
        let verifyMiBPerSecond: Double
        let sha256sumMilliseconds: Double
        let sha256sumMiBPerSecond: Double
        let ratio: Double
        let target: Double
    }

    func run() throws {
        let directory = try Timing.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bench.bin").path

        let payload = Timing.randomBytes(size - 512)
        let image = try AppImageBuilder.application(
            descriptor: AppDescriptor(version: "1.0.0", projectName: "bench"), payload: payload)
        try Files.write(image, to: path)

        let sha256sum = try Timing.locate("sha256sum")
        let many = Array(repeating: path, count: 1 + Self.repeatedFiles)
        // One untimed round of each warms the page cache and the dynamic loader.
        try verify(path)
        try Timing.runProcess(sha256sum, [path])

        let ours = try Timing.measure(iterations) { try verify(path) }
        let once = try Timing.measure(iterations) { try Timing.runProcess(sha256sum, [path]) }
        let repeated = try Timing.measure(iterations) { try Timing.runProcess(sha256sum, many) }

        let oursMS = Timing.milliseconds(ours)
        let theirsMS = max(Timing.milliseconds(repeated - once) / Double(Self.repeatedFiles), 0.001)
        let mib = Double(image.count) / 1_048_576
        let result = Result(
            build: Timing.buildConfiguration, imageBytes: image.count, iterations: iterations,
            verifyMilliseconds: oursMS, verifyMiBPerSecond: mib / (oursMS / 1000), sha256sumMilliseconds: theirsMS,
            sha256sumMiBPerSecond: mib / (theirsMS / 1000), ratio: oursMS / theirsMS, target: 1.3)
        try output.emit(result) {
            """
            ota bench image (\(result.build) build, \(image.count)-byte image, medians of \(iterations) runs)
              ota verify (read + parse + checksum + SHA-256)  \(Timing.format(oursMS)) ms  \(Timing.format(result.verifyMiBPerSecond)) MiB/s
              sha256sum (per file, start-up excluded)        \(Timing.format(theirsMS)) ms  \(Timing.format(result.sha256sumMiBPerSecond)) MiB/s
              ratio ours / sha256sum: \(Timing.format(result.ratio))x (target <= \(result.target)x)\
            \(result.build == "debug" ? "\n  note: debug build; use swift run -c release ota bench image" : "")
            """
        }
    }

    private func verify(_ path: String) throws {
        let image = try AppImage(bytes: try Files.read(path))
        try image.validate()
    }

}
