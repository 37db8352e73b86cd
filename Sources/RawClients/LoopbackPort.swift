import Foundation
import NIOConcurrencyHelpers

/// TCP ports on 127.0.0.1 for the servers a test or a bench starts as separate processes (`ota serve`, mosquitto,
/// HAProxy, moto), which must be told their port before they bind it.
///
/// A port is taken below the kernel's ephemeral range, never from `bind(0)`: that range is also where the kernel picks
/// the local port of every outgoing connection, which can take the port between the check and the server's bind (the
/// likely cause of an "Address already in use" CI saw from `ota serve`). A port handed out once in this process is not
/// handed out again, so two servers started side by side never get the same one.
public enum LoopbackPort {
    /// A port no socket held a moment ago.
    public static func free() throws -> Int {
        let candidates = 20_000..<max(20_001, min(ephemeralRangeStart(), 32_768))
        for _ in 0..<1_000 {
            let port = Int.random(in: candidates)
            guard handedOut.withLockedValue({ $0.insert(port).inserted }) else { continue }
            if try isFree(port) { return port }
        }
        throw POSIXError(.EADDRINUSE)
    }

    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// The first port of `net.ipv4.ip_local_port_range` (Linux's default, 32768, where it cannot be read).
    private static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
    }

    /// Whether a listener could bind `port` on 127.0.0.1 now (without SO_REUSEADDR, so a port in TIME_WAIT counts as
    /// taken too).
    private static func isFree(_ port: Int) throws -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(descriptor) }
        let bound = withAddress(of: port) { bind(descriptor, $0, $1) }
        return bound == 0
    }

    /// 127.0.0.1:`port` as the socket calls (`bind`, `connect`) take it.
    public static func withAddress<Result>(of port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result)
        -> Result
    {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
