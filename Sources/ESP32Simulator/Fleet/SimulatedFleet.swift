import Foundation
import Synchronization

// Many simulated devices running at once, each in its own task, with their latest statuses in one place for
// progress displays. Used by `ota demo` and `ota simulate fleet`.

public final class SimulatedFleet: Sendable {
    private let statuses = Mutex<[String: DeviceStatus]>([:])
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let errors = Mutex<[String: String]>([:])
    private let succeeded = Mutex<[String: ContinuousClock.Instant]>([:])
    /// Every block's latency in milliseconds (4 bytes each: 10,000 devices × 256 blocks is 10 MB).
    private let latencies = Mutex<[Float]>([])

    public init() {}

    /// Runs `device` until `stop` (or forever); its status is tracked under its thing name.
    public func launch(_ device: SimulatedDevice, timeout: Duration = .seconds(86_400)) {
        let thing = device.credentials.thing
        device.onStatus = { [self] status in
            statuses.withLock { $0[thing] = status }
            if status.phase == .succeeded { succeeded.withLock { $0[thing] = $0[thing] ?? .now } }
        }
        device.onBlockLatency = { [self] latency in
            let milliseconds = Double(latency.components.seconds) * 1e3 + Double(latency.components.attoseconds) / 1e15
            latencies.withLock { $0.append(Float(milliseconds)) }
        }
        statuses.withLock { $0[thing] = device.status }
        let task = Task { [self] in
            do {
                try await device.run(timeout: timeout) { _ in false }
            } catch {
                errors.withLock { $0[thing] = "\(error)" }
            }
        }
        running.withLock { $0[thing] = task }
    }

    /// Latest statuses, by thing name.
    public var snapshot: [(thing: String, status: DeviceStatus)] {
        statuses.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    public func status(of thing: String) -> DeviceStatus? { statuses.withLock { $0[thing] } }

    /// When each device first reported a succeeded job (for per-device timing).
    public var successTimes: [String: ContinuousClock.Instant] { succeeded.withLock { $0 } }

    /// The latency of every block received so far (milliseconds, in arrival order).
    public var blockLatencies: [Float] { latencies.withLock { $0 } }

    /// Forgets the latencies recorded so far (the next measurement starts now).
    public func resetBlockLatencies() { latencies.withLock { $0.removeAll(keepingCapacity: true) } }

    /// Devices whose run ended with an error (bricked, unreachable service), with the error.
    public var failures: [String: String] { errors.withLock { $0 } }

    public func stopAll() async {
        let tasks = running.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks = [:] }
            return Array(tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
