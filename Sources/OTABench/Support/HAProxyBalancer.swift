import Foundation

/// HAProxy in front of the fleet bench's instances, configured as docs/deploy.md configures it: TCP passed through
/// to the instance with the fewest connections, each instance's /healthz checked over TLS every second.
public struct HAProxyBalancer {
    let port: Int
    private let process: BenchProcess

    /// Connections it can pass: two descriptors each (device side, instance side) within this machine's hard limit
    /// on open files (HAProxy raises its own soft limit to fit, never the hard one).
    public static var connectionCapacity: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(min(limit.rlim_max, 1 << 24)) / 2 - 100
    }

    /// How many HAProxy processes carry `devices` connections: one per `connectionCapacity` (a site with more devices
    /// than one process may hold open runs several, each with this configuration, and gives devices their addresses
    /// in turn).
    public static func processes(for devices: Int) -> Int {
        let capacity = max(connectionCapacity, 1)
        return max(1, (devices + capacity - 1) / capacity)
    }

    /// Starts `haproxy` (Debian's) on `port` for `instances` and up to `connections` devices, its configuration and
    /// log in `directory`, named `name`.
    init(port: Int, instances: [(mqtt: Int, api: Int)], connections: Int, directory: String, name: String) throws {
        self.port = port
        let servers = instances.enumerated().map { index, ports in
            "    server node\(index + 1) 127.0.0.1:\(ports.mqtt) port \(ports.api)"
        }
        let configuration =
            """
            global
                maxconn \(connections + 20)
            defaults
                mode tcp
                timeout connect 5s
                timeout client 1h
                timeout server 1h
            frontend mqtt
                bind 127.0.0.1:\(port)
                default_backend instances
            backend instances
                balance leastconn
                option httpchk
                http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
                default-server inter 1s fall 2 rise 2 check check-ssl verify none

            """ + servers.joined(separator: "\n") + "\n"
        let path = directory + "/\(name).cfg"
        try configuration.write(toFile: path, atomically: true, encoding: .utf8)
        process = try BenchProcess(
            path: try Timing.locate("haproxy", extraDirectories: ["/usr/sbin"]), arguments: ["-f", path, "-db"],
            log: directory + "/\(name).log")
    }

    /// Waits until it listens and has seen every instance healthy (two checks a second apart).
    func waitUntilReady() async throws {
        try await BenchDevice.waitUntil(timeout: .seconds(30), polling: .milliseconds(50)) { canConnect(port) }
        try await Task.sleep(for: .seconds(3))
    }

    func cpuSeconds() throws -> Double { try process.cpuSeconds() }

    func kill() { process.kill() }
}
