/// `ota bench fleet --database URL --instances N`: the same fleet updated by N instances on PostgreSQL and, in the
/// same run, by one instance on SQLite, the baseline for the cost of distribution.
public struct FleetScaleComparison: Encodable {
    public let single: FleetBenchmark.Result
    public let cluster: FleetBenchmark.Result
    /// Service CPU per delivered MiB, cluster / single (target ≤ 1.3).
    public let cpuPerMiBRatio: Double

    public init(single: FleetBenchmark.Result, cluster: FleetBenchmark.Result) {
        self.single = single
        self.cluster = cluster
        cpuPerMiBRatio = cluster.serviceCPUMillisecondsPerMiB / max(single.serviceCPUMillisecondsPerMiB, 1e-9)
    }

    public static func render(_ c: FleetScaleComparison) -> String {
        FleetBenchmark.renderSideBySide(
            c.single, c.cluster, title: "\(c.cluster.instances) instances on PostgreSQL beside 1 on SQLite (same run)",
            ratios: [
                ("service CPU per MiB", c.cpuPerMiBRatio, " (target <= 1.3x)"),
                ("end to end", c.cluster.endToEndSeconds / max(c.single.endToEndSeconds, 1e-9), ""),
                (
                    "block latency p99",
                    c.cluster.blockLatencyMillisecondsP99
                        / max(c.single.blockLatencyMillisecondsP99, 1e-9), ""
                ),
            ])
    }
}
