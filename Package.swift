// swift-tools-version:6.1
// SwiftOTA — secure over-the-air updates for ESP32-class fleets.
// The dependency arrows point down the table in docs/ARCHITECTURE.md; scripts/check-layout enforces them.
import PackageDescription

let package = Package(
    name: "SwiftOTA",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ota", targets: ["ota"]),
        .library(name: "OTAWire", targets: ["OTAWire"]),
        .library(name: "OTAAgent", targets: ["OTAAgent"]),
        .library(name: "ESP32Formats", targets: ["ESP32Formats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Device protocol vocabulary. Standard library only: must build in Embedded Swift.
        .target(name: "OTAWire"),
        // The device agent. Standard library and OTAWire only: must build in Embedded Swift.
        .target(name: "OTAAgent", dependencies: ["OTAWire"]),
        .target(
            name: "ESP32Formats",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "MQTT",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // TLSUserEvent: the end of the handshake starts the CONNECT deadline.
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                // Traffic counters through the owner's metrics backend (MQTTTrafficMetrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "CodeSigning",
            dependencies: [
                "ESP32Formats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "OTAService",
            dependencies: [
                "OTAWire", "ESP32Formats", "MQTT", "CodeSigning", "S3",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                // HTTP request parts, as Hummingbird's pipeline carries them (the API's deadline handler).
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Operators' passwords: scrypt (Operators/PasswordHash.swift).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                // /metrics: swift-metrics handlers backed by a Prometheus registry per server (ServiceMetrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // An S3-compatible object-store client (SigV4, multipart, presigned URLs): the future S3 blob store's I/O.
        .target(
            name: "S3",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "ESP32Simulator",
            dependencies: [
                "OTAAgent", "OTAWire", "ESP32Formats", "CodeSigning", "MQTT",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The device's HTTP(S) client for the HTTP data plane (HTTPRangeFetcher).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // `ota demo`'s world and script. No ArgumentParser: the commands stay in `ota`.
        .target(
            name: "OTADemo",
            dependencies: [
                "ESP32Formats", "CodeSigning", "OTAService", "ESP32Simulator",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Clients that speak raw bytes (malformed, partial, never-acknowledging, never-reading): the hostile side
        // of the tests and of `ota bench abuse`.
        .target(
            name: "RawClients",
            dependencies: [
                "MQTT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // `ota bench`'s machinery: load generators, baselines, the benchmarks and their figures. No ArgumentParser.
        .target(
            name: "OTABench",
            dependencies: [
                "OTAWire", "OTAAgent", "ESP32Formats", "MQTT", "CodeSigning", "OTAService", "ESP32Simulator", "OTADemo",
                "RawClients",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ota",
            dependencies: [
                "OTAWire", "OTAAgent", "ESP32Formats", "MQTT", "CodeSigning", "S3", "OTAService", "ESP32Simulator",
                "OTADemo", "OTABench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "MQTT", "RawClients",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "OTAWireTests", dependencies: ["OTAWire"]),
        .testTarget(name: "OTAAgentTests", dependencies: ["OTAAgent", "OTAWire"]),
        .testTarget(
            name: "ESP32SimulatorTests",
            dependencies: [
                "ESP32Simulator", "ESP32Formats", "CodeSigning", "TestSupport", "OTAAgent", "OTAWire", "MQTT",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "ESP32FormatsTests", dependencies: ["ESP32Formats", "TestSupport"]),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "CodeSigning", "TestSupport"]),
        .testTarget(name: "CodeSigningTests", dependencies: ["CodeSigning", "ESP32Formats", "TestSupport"]),
        .testTarget(
            name: "otaTests",
            dependencies: [
                "ESP32Formats", "TestSupport", "OTAWire", "MQTT",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "OTAService", "ESP32Simulator", "OTAAgent", "OTAWire", "ESP32Formats", "CodeSigning", "S3",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "S3Tests",
            dependencies: [
                "S3", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "OTAServiceTests",
            dependencies: [
                "OTAService", "OTAWire", "MQTT", "CodeSigning", "ESP32Formats", "S3", "TestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
