import Foundation

/// `ota bench fleet --database URL --instances N --rounds R`: the SQLite baseline and the instances on PostgreSQL
/// alternated R times. On a shared machine one round's ratio swings with the load of the moment (±0.15 on the
/// 2-core machine of the README's figures), so a target like ≤ 1.3 × is judged on the rounds together: their median,
/// and the ratio of the two sides' mean CPU per MiB.
public struct FleetScaleSeries: Encodable {
    public let rounds: [FleetScaleComparison]
    /// Each round's service CPU per MiB ratio, cluster / single, in the order run.
    public let cpuPerMiBRatios: [Double]
    public let cpuPerMiBRatioMedian: Double
    public let cpuPerMiBRatioMin: Double
    public let cpuPerMiBRatioMax: Double
    /// Mean cluster CPU per MiB over mean single CPU per MiB: every round weighs the same.
    public let cpuPerMiBRatioOfMeans: Double

    public init(rounds: [FleetScaleComparison]) {
        precondition(!rounds.isEmpty, "a series has at least one round")
        self.rounds = rounds
        cpuPerMiBRatios = rounds.map(\.cpuPerMiBRatio)
        let sorted = cpuPerMiBRatios.sorted()
        let middle = sorted.count / 2
        cpuPerMiBRatioMedian = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        cpuPerMiBRatioMin = sorted[0]
        cpuPerMiBRatioMax = sorted[sorted.count - 1]
        func mean(_ side: (FleetScaleComparison) -> FleetBenchmark.Result) -> Double {
            rounds.map { side($0).serviceCPUMillisecondsPerMiB }.reduce(0, +) / Double(rounds.count)
        }
        cpuPerMiBRatioOfMeans = mean(\.cluster) / max(mean(\.single), 1e-9)
    }

    public static func render(_ s: FleetScaleSeries) -> String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        let last = s.rounds[s.rounds.count - 1]
        let lines =
            s.rounds.enumerated().map { index, round in
                "  round \(index + 1)".padding(toLength: 36, withPad: " ", startingAt: 0)
                    + "\(f(round.cluster.serviceCPUMillisecondsPerMiB)) vs "
                    + "\(f(round.single.serviceCPUMillisecondsPerMiB)) ms per MiB, \(f(round.cpuPerMiBRatio))x; "
                    + "\(round.cluster.succeeded)/\(round.cluster.devices) and "
                    + "\(round.single.succeeded)/\(round.single.devices) succeeded"
            } + [
                "  service CPU per MiB, median".padding(toLength: 36, withPad: " ", startingAt: 0)
                    + "\(f(s.cpuPerMiBRatioMedian))x (target <= 1.3x); range \(f(s.cpuPerMiBRatioMin))–"
                    + "\(f(s.cpuPerMiBRatioMax))x; ratio of the means \(f(s.cpuPerMiBRatioOfMeans))x"
            ]
        return FleetScaleComparison.render(last) + "\n\n"
            + "\(s.rounds.count) rounds, the SQLite instance and the \(last.cluster.instances) instances alternated "
            + "(the last round in full above)\n" + lines.joined(separator: "\n")
    }
}
