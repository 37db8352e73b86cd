import Synchronization

// Console sign-ins, held to what a person needs. An attempt counts as a failure from the moment it is admitted
// (a burst of parallel guesses cannot all pass the check before the first is counted) and is refunded when it
// succeeds; past `maximumFailures` per client address or per account name within `window`, attempts are refused
// without hashing. At most `maximumHashing` passwords are hashed at once (each scrypt costs 32 MiB and a core for
// a moment): more attempts meanwhile are told to retry. Per instance. The table is bounded: expired windows go
// first, then the oldest.

final class LoginThrottle: Sendable {
    static let maximumFailures = 5
    static let window: Int64 = 15 * 60
    static let maximumHashing = 2
    static let maximumEntries = 10_000

    enum Admission: Equatable {
        case granted
        /// Too many failures for this address or name.
        case throttled
        /// Too many sign-ins being checked right now.
        case busy
    }

    private struct Tally {
        var failures = 0
        var since: Int64 = 0
    }

    private struct State {
        var tallies: [String: Tally] = [:]
        var hashing = 0
    }

    private let state = Mutex(State())

    func admit(address: String, name: String, at time: Int64) -> Admission {
        let keys = [Self.key(address: address), Self.key(name: name)]
        return state.withLock { state in
            let throttled = keys.contains { key in
                guard let tally = state.tallies[key], time - tally.since < Self.window else { return false }
                return tally.failures >= Self.maximumFailures
            }
            if throttled { return .throttled }
            guard state.hashing < Self.maximumHashing else { return .busy }
            state.hashing += 1
            Self.bound(&state.tallies, at: time)
            for key in keys {
                var tally = state.tallies[key] ?? Tally(failures: 0, since: time)
                if time - tally.since >= Self.window { tally = Tally(failures: 0, since: time) }
                tally.failures += 1
                state.tallies[key] = tally
            }
            return .granted
        }
    }

    /// Ends an admitted attempt; a success takes its failure back and clears the name's.
    func finished(address: String, name: String, succeeded: Bool) {
        state.withLock { state in
            state.hashing -= 1
            guard succeeded else { return }
            state.tallies.removeValue(forKey: Self.key(name: name))
            state.tallies[Self.key(address: address)]?.failures -= 1
        }
    }

    /// Addresses and names with a tally (tests: the table stays bounded).
    var entryCount: Int { state.withLock { $0.tallies.count } }

    private static func bound(_ tallies: inout [String: Tally], at time: Int64) {
        guard tallies.count >= maximumEntries else { return }
        tallies = tallies.filter { time - $0.value.since < window }
        guard tallies.count >= maximumEntries else { return }
        let oldest = tallies.sorted { $0.value.since < $1.value.since }.prefix(tallies.count / 2).map(\.key)
        for key in oldest { tallies.removeValue(forKey: key) }
    }

    private static func key(address: String) -> String { "address " + address }
    private static func key(name: String) -> String { "name " + name }
}
