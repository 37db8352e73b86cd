import CoreMetrics
import MQTT
import OTAWire

import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

// The service's metrics, through swift-metrics handlers made by a Prometheus registry that belongs to this one
// server: several servers in one process (the tests, `ota demo --instances`) each report their own, and nothing is
// bootstrapped globally. What happens is counted where it happens (packets, blocks, execution changes, signature
// failures, request and transaction durations); what is a state (connected devices, a rollout's counts, what the
// limits shed) is read when Prometheus scrapes (MetricsSampler). docs/monitoring.md lists every series.

public final class ServiceMetrics: Sendable {
    /// What `/metrics` renders; nil for `.none`, which counts nothing (engines and servers made by tests alone).
    public let registry: PrometheusCollectorRegistry?
    let factory: any MetricsFactory
    let mqtt: MQTTTrafficMetrics
    /// Blocks (MQTT stream messages, HTTP ranges) served and their bytes of file, by delivery protocol.
    private let blocks: [DeliveryProtocol: (count: Counter, bytes: Counter)]
    private let transitions: [JobExecutionStatus: Counter]
    private let signatureFailures: [SignatureFailure: Counter]
    private let storage: [StorageAccess: Timer]

    public static let none = ServiceMetrics(registry: nil)

    public init(registry: PrometheusCollectorRegistry? = PrometheusCollectorRegistry()) {
        self.registry = registry
        var prometheus = registry.map { PrometheusMetricsFactory(registry: $0) }
        // Seconds from 1 ms to 10 s: block requests, API calls and database transactions all fall in there.
        prometheus?.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        let factory: any MetricsFactory = prometheus ?? NOOPMetricsHandler.instance
        self.factory = factory
        mqtt = MQTTTrafficMetrics(factory: factory)
        blocks = Self.perCase(DeliveryProtocol.self, "protocol") { dimensions in
            (
                Counter(label: "swiftota_blocks_served_total", dimensions: dimensions, factory: factory),
                Counter(label: "swiftota_block_bytes_served_total", dimensions: dimensions, factory: factory)
            )
        }
        transitions = Self.perCase(JobExecutionStatus.self, "to") {
            Counter(label: "swiftota_job_execution_changes_total", dimensions: $0, factory: factory)
        }
        signatureFailures = Self.perCase(SignatureFailure.self, "where") {
            Counter(label: "swiftota_signature_failures_total", dimensions: $0, factory: factory)
        }
        storage = Self.perCase(StorageAccess.self, "kind") {
            Timer(label: "swiftota_storage_transaction_seconds", dimensions: $0, factory: factory)
        }
    }

    /// One handler per case of `Key`, made once with the dimension `name` = the case's raw value: the hot paths
    /// then find theirs by a dictionary lookup instead of a registry's lock.
    private static func perCase<Key: CaseIterable & RawRepresentable & Hashable, Handler>(
        _ type: Key.Type, _ name: String, _ make: ([(String, String)]) -> Handler
    ) -> [Key: Handler] where Key.RawValue == String {
        Dictionary(uniqueKeysWithValues: Key.allCases.map { ($0, make([(name, $0.rawValue)])) })
    }

    enum DeliveryProtocol: String, CaseIterable {
        case mqtt, http
    }

    enum SignatureFailure: String, CaseIterable {
        /// A signature supplied with an update did not verify against its profile's certificate.
        case update
        /// A device reported that the image's signature, or its signer certificate, failed its check.
        case device
    }

    enum StorageAccess: String, CaseIterable {
        case read, write
    }

    func servedBlocks(_ count: Int, bytes: Int, over delivery: DeliveryProtocol) {
        guard let counters = blocks[delivery] else { return }
        counters.count.increment(by: count)
        counters.bytes.increment(by: bytes)
    }

    func executionChanged(to status: JobExecutionStatus) {
        transitions[status]?.increment()
    }

    func signatureFailed(_ site: SignatureFailure) {
        signatureFailures[site]?.increment()
    }

    func storageTransaction(_ access: StorageAccess, took duration: Duration) {
        storage[access]?.recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
