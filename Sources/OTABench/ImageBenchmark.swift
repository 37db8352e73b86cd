import CodeSigning
import ESP32Formats
import Foundation

/// `ota bench image`: verifying an app image (read, parse, checksum, SHA-256) against sha256sum on the same file.
///
/// sha256sum runs as a process, whose start-up would swamp a few milliseconds of hashing. So it is run once with the
/// file named once and once with the file named 1 + N times; the difference over N is its time per file, start-up
/// excluded.
public struct ImageBenchmark: Sendable {
    /// Image size in bytes, at least 4 KiB.
    public var size: Int
    /// Runs of each measurement; the median is reported.
    public var iterations: Int

    public init(size: Int, iterations: Int) {
        self.size = size
        self.iterations = iterations
    }

    /// Extra copies of the file named on sha256sum's command line in the long run.
    static let repeatedFiles = 20

    public struct Result: Encodable {
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

    public func run() throws -> Result {
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
        return Result(
            build: Timing.buildConfiguration, imageBytes: image.count, iterations: iterations,
            verifyMilliseconds: oursMS, verifyMiBPerSecond: mib / (oursMS / 1000), sha256sumMilliseconds: theirsMS,
            sha256sumMiBPerSecond: mib / (theirsMS / 1000), ratio: oursMS / theirsMS, target: 1.3)
    }

    public static func render(_ result: Result) -> String {
        """
        ota bench image (\(result.build) build, \(result.imageBytes)-byte image, medians of \(result.iterations) runs)
          ota verify (read + parse + checksum + SHA-256)  \(Timing.format(result.verifyMilliseconds)) ms  \(Timing.format(result.verifyMiBPerSecond)) MiB/s
          sha256sum (per file, start-up excluded)        \(Timing.format(result.sha256sumMilliseconds)) ms  \(Timing.format(result.sha256sumMiBPerSecond)) MiB/s
          ratio ours / sha256sum: \(Timing.format(result.ratio))x (target <= \(result.target)x)\
        \(result.build == "debug" ? "\n  note: debug build; use swift run -c release ota bench image" : "")
        """
    }

    private func verify(_ path: String) throws {
        let image = try AppImage(bytes: try Files.read(path))
        try image.validate()
    }
}
