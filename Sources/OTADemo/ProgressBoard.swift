import ESP32Simulator
import Foundation

/// Live progress of a fleet: a bar per device and an aggregate bar, redrawn in place on a terminal; on a pipe or
/// a file, one aggregate line when it changes.
public final class ProgressBoard: @unchecked Sendable {
    private let interactive = isatty(STDOUT_FILENO) == 1
    private var drawnLines = 0
    private var lastSummary = ""
    let quiet: Bool

    public init(quiet: Bool) {
        self.quiet = quiet
    }

    public func say(_ line: String) {
        guard !quiet else { return }
        drawnLines = 0
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    public func draw(_ fleet: [(thing: String, status: DeviceStatus)], title: String) {
        guard !quiet else { return }
        let done = fleet.filter { $0.status.phase == .succeeded }.count
        let failed = fleet.filter { $0.status.phase == .failed }.count
        var counts: [DevicePhase: Int] = [:]
        for entry in fleet { counts[entry.status.phase, default: 0] += 1 }
        let phases = [DevicePhase.idle, .downloading, .verifying, .rebooting, .selfTest, .succeeded, .failed]
            .compactMap { phase in counts[phase].map { "\($0) \(phase.rawValue)" } }
        let summary = "\(title): " + phases.joined(separator: ", ") + " (\(fleet.count) devices)"
        guard interactive else {
            if summary != lastSummary { say("  " + summary) }
            lastSummary = summary
            return
        }
        var lines = fleet.map { entry -> String in
            let status = entry.status
            let fraction =
                status.phase == .succeeded
                ? 1.0 : status.blocksTotal == 0 ? 0.0 : Double(status.blocksReceived) / Double(status.blocksTotal)
            let detail =
                status.phase == .downloading ? " \(status.blocksReceived)/\(status.blocksTotal)" : ""
            return "  \(entry.thing.padding(toLength: 12, withPad: " ", startingAt: 0)) \(Self.bar(fraction)) "
                + "\(status.phase.rawValue)\(detail)".padding(toLength: 22, withPad: " ", startingAt: 0)
                + " running \(status.runningVersion)"
        }
        let total = Double(done + failed) / Double(max(1, fleet.count))
        lines.append("  \("fleet".padding(toLength: 12, withPad: " ", startingAt: 0)) \(Self.bar(total)) \(summary)")
        var output = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for line in lines { output += "\u{1B}[2K" + line + "\n" }
        FileHandle.standardOutput.write(Data(output.utf8))
        drawnLines = lines.count
    }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
    }
}
