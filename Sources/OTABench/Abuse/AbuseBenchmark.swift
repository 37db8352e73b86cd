import Foundation
import OTAService

/// `ota bench abuse`: the same fleet updated twice by a fresh service each time — calm, then while `HostileLoad`
/// attacks it — and what the attacks cost the legitimate devices and the service.
public struct AbuseBenchmark: Sendable {
    public var fleet: FleetBenchmark
    public var strength: HostileLoad.Strength

    public init(fleet: FleetBenchmark, strength: HostileLoad.Strength = .init()) {
        self.fleet = fleet
        self.strength = strength
    }

    public struct Result: Encodable {
        let calm: FleetBenchmark.Result
        let attacked: FleetBenchmark.Result
        /// Attacked p99 block latency over calm (target ≤ 2).
        let blockLatencyP99Ratio: Double
        let peakMemoryRatio: Double
        let serviceCPURatio: Double
        /// Every legitimate device succeeded in both runs.
        let allSucceeded: Bool
    }

    public func run() async throws -> Result {
        progress("calm run: \(fleet.devices) devices, no attack")
        var calmFleet = fleet
        calmFleet.disturbance = nil
        let calm = try await calmFleet.run()
        progress("attacked run: the same fleet while the attacks run")
        var attackedFleet = fleet
        attackedFleet.disturbance = HostileLoad(strength: strength)
        let attacked = try await attackedFleet.run()
        return Result(
            calm: calm, attacked: attacked,
            blockLatencyP99Ratio: attacked.blockLatencyMillisecondsP99 / max(calm.blockLatencyMillisecondsP99, 1e-9),
            peakMemoryRatio: attacked.servicePeakMiB / max(calm.servicePeakMiB, 1e-9),
            serviceCPURatio: attacked.serviceCPUSeconds / max(calm.serviceCPUSeconds, 1e-9),
            allSucceeded: calm.succeeded == calm.devices && attacked.succeeded == attacked.devices)
    }

    public static func render(_ r: Result) -> String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        func row(_ name: String, _ calm: String, _ attacked: String, _ note: String = "") -> String {
            "  " + name.padding(toLength: 30, withPad: " ", startingAt: 0)
                + calm.padding(toLength: 22, withPad: " ", startingAt: 0)
                + attacked.padding(toLength: 22, withPad: " ", startingAt: 0) + note
        }
        let (c, a) = (r.calm, r.attacked)
        let shed = a.protection.first
        var lines = [
            "ota bench abuse (\(a.build) build; \(a.devices) legitimate devices × \(a.imageBytes) bytes over "
                + "\(a.delivery); one ota serve on \(a.database))",
            row("", "calm", "under attack"),
            row(
                "legitimate devices succeeded", "\(c.succeeded)/\(c.devices)", "\(a.succeeded)/\(a.devices)",
                r.allSucceeded ? "" : "  FAILED: " + (c.notSucceeded + a.notSucceeded).joined(separator: "; ")),
            row("end to end", "\(f(c.endToEndSeconds)) s", "\(f(a.endToEndSeconds)) s"),
            row(
                "block latency p50", "\(f(c.blockLatencyMillisecondsP50)) ms", "\(f(a.blockLatencyMillisecondsP50)) ms"),
            row(
                "block latency p99", "\(f(c.blockLatencyMillisecondsP99)) ms", "\(f(a.blockLatencyMillisecondsP99)) ms",
                "\(f(r.blockLatencyP99Ratio))x (target <= 2x)"),
            row("job after reboot p99", "\(f(c.selfTestWaitSecondsP99)) s", "\(f(a.selfTestWaitSecondsP99)) s"),
            row(
                "service peak memory", "\(f(c.servicePeakMiB)) MiB", "\(f(a.servicePeakMiB)) MiB",
                "\(f(r.peakMemoryRatio))x"),
            row(
                "service CPU", "\(f(c.serviceCPUSeconds)) s", "\(f(a.serviceCPUSeconds)) s",
                "\(f(r.serviceCPURatio))x"),
            "  the attacks (each re-opened what the service closed):",
        ]
        lines += a.disturbance.map { "    " + $0 }
        if let shed {
            lines.append("  what the service shed or refused:")
            lines.append(
                "    device port before CONNECT: \(shed.mqttTLSHandshakeTimeouts) TLS handshake deadline, "
                    + "\(shed.mqttConnectTimeouts) CONNECT deadline, \(shed.mqttUnauthenticatedLimit) total cap, "
                    + "\(shed.mqttPerAddressLimit) per-address cap")
            lines.append(
                "    API: \(shed.apiTLSHandshakeTimeouts) TLS handshake deadline, \(shed.apiRequestTimeouts) request "
                    + "deadline")
            lines.append(
                "    devices: \(shed.queueOverflows) closed a whole queue behind (QoS 1), \(shed.slowConsumers) closed "
                    + "for not reading, \(shed.retainedRefused) retained messages refused, \(shed.pacedClients) pauses of a "
                    + "device over its inbound rate")
        }
        if a.build == "debug" { lines.append("  note: debug build; use swift run -c release ota bench abuse") }
        return lines.joined(separator: "\n")
    }
}
