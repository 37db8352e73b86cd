import OTAWire
import Synchronization

// Devices' plain progress reports sent at QoS 0, held for a moment and recorded together. The FreeRTOS agent on an
// ESP32 reports "receive" every 25 blocks (aws-ota-wire.md §3.4): two thirds of a fleet's reports, each of which
// cost a transaction of its own (or a share of a group commit), a hop to the database's thread and back, and a
// task wake-up on each side. The device sends them at most once by its own choice, and waits for no answer; so
// here they wait up to `interval`, and then every report held is recorded in one store call
// (`OTAStore.recordProgress`) and answered. QoS 1 reports — the self-test's "ready" before the reboot, the final
// status — are never held: they are recorded before they are answered, as before.
//
// Order per thing: before any other Jobs request of a thing is handled, what the ledger holds of that thing is
// recorded first (`settle`), and a thing whose reports are being recorded waits for that. A thing's reports are
// added and settled in the order its requests came (DeviceGateway: by its ordered inbox task, or on its event loop
// when nothing of it waits there), so nothing of a thing is ever recorded out of order. Two reports of one execution
// held together are recorded as the later one.

public final class ProgressLedger: Sendable {
    /// A second: a report shows in the console that much later at most, and a fleet's reports of that second go
    /// in one transaction.
    public static let defaultInterval = Duration.seconds(1)

    /// One held report and how its answer reaches the device.
    struct Held: Sendable {
        var report: ProgressReport
        var request: UpdateJobExecutionRequest
        var answer: @Sendable (Result<Void, any Error>) -> Void
    }

    /// Records a batch of held reports and answers each (JobEngine.recordHeld).
    typealias Record = @Sendable ([Held]) async -> Void

    /// How long a report may be held before it is recorded.
    let interval: Duration
    private let recorder = Mutex<Record?>(nil)
    private let state = Mutex(State())

    private struct State {
        /// Each thing's held reports, in the order they came.
        var held: [String: [Held]] = [:]
        /// Things whose reports are being recorded, with the settles that wait for them.
        var recording: [String: [CheckedContinuation<Void, Never>]] = [:]
        /// A flush is scheduled or running (one at a time: a later one must not overtake it).
        var flushing = false
        /// The service is stopping: nothing more is held (`close`).
        var closed = false
        /// `close` waits for these recordings to end.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(interval: Duration) {
        self.interval = interval
    }

    /// Set once, by the engine that owns the ledger (it cannot hand itself over before it is initialised).
    func setRecorder(_ record: @escaping Record) {
        recorder.withLock { $0 = record }
    }

    /// Reports held now.
    var count: Int { state.withLock { $0.held.values.reduce(0) { $0 + $1.count } } }

    func hold(_ held: Held) {
        let schedule = state.withLock { state -> Bool? in
            guard !state.closed else { return nil }
            state.held[held.report.thing, default: []].append(held)
            defer { state.flushing = true }
            return !state.flushing
        }
        guard let schedule else {
            return held.answer(.failure(StoreError.unavailable("the service is stopping")))
        }
        if schedule { scheduleFlush() }
    }

    /// Records what is held of `thing` now, after any recording of it already under way; returns when it is done.
    func settle(thing: String) async {
        enum Step {
            case record([Held])
            case wait
        }
        while true {
            let step = state.withLock { state -> Step in
                guard state.recording[thing] == nil else { return .wait }
                guard let mine = state.held.removeValue(forKey: thing) else { return .record([]) }
                state.recording[thing] = []
                return .record(mine)
            }
            switch step {
            case .record(let mine):
                guard !mine.isEmpty else { return }
                await record(mine)
                finishRecording([thing])
                return
            case .wait:
                await waitUnlessDone { state, done in
                    guard state.recording[thing] != nil else { return false }
                    state.recording[thing]!.append(done)
                    return true
                }
            }
        }
    }

    /// Holds nothing more (a report that comes now is refused: the service is stopping), records everything held,
    /// and returns once no recording is under way.
    func close() async {
        state.withLock { $0.closed = true }
        // What is left is of things another flush is recording: it is taken once that one is done.
        while await flushOnce() { try? await Task.sleep(for: .milliseconds(10)) }
        await waitUnlessDone { state, idle in
            guard !state.recording.isEmpty else { return false }
            state.idleWaiters.append(idle)
            return true
        }
    }

    /// Suspends until `register` (called under the lock) has queued the continuation it is given where a finished
    /// recording resumes it; returns at once when it queued nothing (what it would wait for is done already).
    private func waitUnlessDone(
        _ register: (inout State, CheckedContinuation<Void, Never>) -> Bool
    ) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            if !state.withLock({ register(&$0, done) }) { done.resume() }
        }
    }

    // MARK: -

    private func record(_ batch: [Held]) async {
        await recorder.withLock({ $0 })?(batch)
    }

    private func scheduleFlush() {
        let interval = interval
        Task {
            try? await Task.sleep(for: interval)
            if await flushOnce() { scheduleFlush() }
        }
    }

    /// Records one batch: everything held of things not being recorded already. Returns whether reports are still
    /// held (then a flush stays due); otherwise the ledger stops flushing until the next report.
    private func flushOnce() async -> Bool {
        let (batch, things) = state.withLock { state -> ([Held], Set<String>) in
            var batch: [Held] = []
            var things: Set<String> = []
            for (thing, held) in state.held where state.recording[thing] == nil {
                batch += held
                things.insert(thing)
                state.recording[thing] = []
            }
            for thing in things { state.held[thing] = nil }
            return (batch, things)
        }
        if !batch.isEmpty {
            await record(batch)
            finishRecording(things)
        }
        return state.withLock { state in
            if state.held.isEmpty { state.flushing = false }
            return !state.held.isEmpty
        }
    }

    private func finishRecording(_ things: Set<String>) {
        let waiters = state.withLock { state in
            var waiters = things.flatMap { state.recording.removeValue(forKey: $0) ?? [] }
            if state.recording.isEmpty {
                waiters += state.idleWaiters
                state.idleWaiters = []
            }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
