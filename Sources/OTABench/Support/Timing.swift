import Foundation

/// Shared timing helpers: medians of repeated runs, so one descheduled run on a shared machine does not decide.
public enum Timing {
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
        guard spawned == 0 else {
            throw BenchError.cannotStart(path: path, reason: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw BenchError.processFailed(command: ([path] + arguments).joined(separator: " "), status: status)
        }
    }

    /// The first of /usr/bin, /bin, /usr/local/bin (and `extraDirectories`) that has `name`.
    static func locate(_ name: String, extraDirectories: [String] = []) throws -> String {
        let directories = ["/usr/bin", "/bin", "/usr/local/bin"] + extraDirectories
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw BenchError.toolMissing(name: name, searched: directories)
    }

    /// The `p` quantile of sorted `values` by nearest rank: the smallest value with at least a fraction `p` of them
    /// at or below it (0 when empty).
    static func quantile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let rank = Int((Double(values.count) * p).rounded(.up))
        return values[min(max(rank, 1), values.count) - 1]
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// A temporary directory for a benchmark's files, removed by `cleanUp`.
    public static func scratchDirectory() throws -> URL {
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
