import Synchronization

// Failed console logins, counted per client address and per account name over a window: past `maximumFailures`
// either way, further attempts are refused without checking the password until the window ends. Per instance (a
// guesser spread over three instances gets three times the attempts, each still scrypt-hashed).

final class LoginThrottle: Sendable {
    static let maximumFailures = 5
    static let window: Int64 = 15 * 60

    private struct Tally {
        var failures = 0
        var since: Int64 = 0
    }

    private let tallies = Mutex<[String: Tally]>([:])

    func permits(address: String, name: String, at time: Int64) -> Bool {
        tallies.withLock { tallies in
            [Self.key(address: address), Self.key(name: name)].allSatisfy { key in
                guard let tally = tallies[key], time - tally.since < Self.window else { return true }
                return tally.failures < Self.maximumFailures
            }
        }
    }

    func failed(address: String, name: String, at time: Int64) {
        tallies.withLock { tallies in
            // A flood of names must not grow the table without bound: old windows are dropped as it grows.
            if tallies.count > 10_000 { tallies = tallies.filter { time - $0.value.since < Self.window } }
            for key in [Self.key(address: address), Self.key(name: name)] {
                var tally = tallies[key] ?? Tally(failures: 0, since: time)
                if time - tally.since >= Self.window { tally = Tally(failures: 0, since: time) }
                tally.failures += 1
                tallies[key] = tally
            }
        }
    }

    func succeeded(name: String) {
        _ = tallies.withLock { $0.removeValue(forKey: Self.key(name: name)) }
    }

    private static func key(address: String) -> String { "address " + address }
    private static func key(name: String) -> String { "name " + name }
}
