// Last-seen writes on PostgreSQL, gathered: a fleet rebooting into a new image reconnects all at once, and each
// device's last-seen time was an UPDATE of its own, a round trip and a WAL commit each. The writes that arrive while
// one statement is on its way go together in the next (BatchesWhileBusy.swift), one UPDATE over unnest'ed arrays;
// each caller returns once the statement that carried its write has committed.

enum LastSeenBatch {
    struct Seen: Sendable {
        let thing: String
        let time: Int64
        /// The write is skipped when the stored time is less than this many seconds older.
        let interval: Int64
    }

    /// A thing seen twice in one batch is written once, with its later time (one row may match one source row of
    /// an UPDATE … FROM).
    static func latestPerThing(_ seen: [Seen]) -> [Seen] {
        var latest: [String: Seen] = [:]
        var order: [String] = []
        for entry in seen {
            if let known = latest[entry.thing] {
                if entry.time > known.time { latest[entry.thing] = entry }
            } else {
                latest[entry.thing] = entry
                order.append(entry.thing)
            }
        }
        return order.map { latest[$0]! }
    }
}
