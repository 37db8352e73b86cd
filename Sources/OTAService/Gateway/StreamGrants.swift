import Synchronization

// Which things may read which streams without asking the store again, and until when. A grant is given after the
// store said yes and ends when the thing's next execution changes (`end(thing:)`), when the cluster bus may have
// lost events (`endAll()`), or at its deadline. A store read that was in flight when its thing's grants ended
// must not bring them back: each thing has a generation, taken before the read and checked when granting.

final class StreamGrants: Sendable {
    struct Ticket {
        fileprivate let thing: UInt64
        fileprivate let all: UInt64
    }

    private struct State {
        var until: [String: [String: ContinuousClock.Instant]] = [:]
        var generations: [String: UInt64] = [:]
        var allGeneration: UInt64 = 0
        var lastPrune = ContinuousClock.now
    }

    private let state = Mutex(State())
    private let duration: Duration

    init(duration: Duration) { self.duration = duration }

    func isGranted(thing: String, stream: String, at now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in state.until[thing]?[stream].map { now < $0 } ?? false }
    }

    /// Taken before asking the store: a grant made with it only holds if nothing ended in between.
    func ticket(for thing: String) -> Ticket {
        state.withLock { Ticket(thing: $0.generations[thing, default: 0], all: $0.allGeneration) }
    }

    func grant(thing: String, stream: String, at now: ContinuousClock.Instant, ticket: Ticket) {
        state.withLock { state in
            guard state.generations[thing, default: 0] == ticket.thing, state.allGeneration == ticket.all else {
                return
            }
            // Expired grants go once per grant duration at most (a table of one entry per downloading device).
            if now - state.lastPrune > duration {
                state.lastPrune = now
                state.until = state.until.compactMapValues { streams in
                    let live = streams.filter { $0.value > now }
                    return live.isEmpty ? nil : live
                }
            }
            state.until[thing, default: [:]][stream] = now + duration
        }
    }

    func end(thing: String) {
        state.withLock { state in
            state.until[thing] = nil
            state.generations[thing, default: 0] &+= 1
        }
    }

    func endAll() {
        state.withLock { state in
            state.until = [:]
            state.allGeneration &+= 1
        }
    }
}
