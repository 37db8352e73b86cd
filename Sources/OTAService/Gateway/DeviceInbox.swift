import MQTT
import Synchronization

// One connection's requests as the gateway queues them: two inboxes, each answered in order by one task — Jobs
// requests, at a higher priority, and Streams requests — and the pacing of the stream requests (per connection: a
// reconnect starts with a full burst). Block traffic must not hold up control traffic: after a reboot into a new
// image the agent has 16 s to get its job and confirm the self-test, while thousands of other devices download.
//
// A stream request that finds nothing waiting before it and the rate not exceeded may be answered at once on the
// connection's event loop (`takeStreamTurn`), when what it needs is in memory: most requests of a download then
// cost no hop to another thread and back, and stay in order, since nothing is queued before them. A Jobs request
// that only hands a QoS 0 progress report to the engine to hold may likewise be taken at once (`takeJobsTurn`).

final class DeviceInbox: Sendable {
    struct Item: Sendable {
        let request: DeviceRequest
        let publish: PublishPacket
        let session: MQTTSessionContext
        /// The request was charged to the rate already (it was to be answered at once but needed the store).
        var charged = false
    }

    /// The connection they belong to: only its end may remove them.
    let session: MQTTSessionContext
    private let jobs: AsyncStream<Item>.Continuation
    private let streams: AsyncStream<Item>.Continuation
    private let pacing: Mutex<StreamPacing>
    /// Jobs requests queued and not answered yet, and a turn taken on the event loop (`takeJobsTurn`).
    private let jobsWaiting = Atomic<Int>(0)
    /// The Jobs task has begun: every request of the thing's earlier connections has been answered.
    private let jobsOpen = Atomic<Bool>(false)

    private struct StreamPacing {
        var bucket: TokenBucket
        /// Stream requests queued and neither answered nor dropped yet.
        var waiting = 0
    }

    /// `jobs` and `streams` are the streams' continuations; `rate` and `burst` pace the stream requests.
    init(
        session: MQTTSessionContext, jobs: AsyncStream<Item>.Continuation, streams: AsyncStream<Item>.Continuation,
        rate: Double, burst: Double
    ) {
        self.session = session
        self.jobs = jobs
        self.streams = streams
        pacing = Mutex(StreamPacing(bucket: TokenBucket(rate: rate, burst: burst)))
    }

    /// Whether a stream request of `sender` may be answered now, ahead of the queue: nothing waits before it and it
    /// is within the rate (charged). Otherwise it must be queued with `queueStream`. Called on the connection's event
    /// loop, so no request of the connection slips in between a refusal and its queueing. A connection being closed
    /// for a takeover finds its successor's inbox: its requests only queue there.
    func takeStreamTurn(for sender: MQTTSessionContext) -> Bool {
        let ownInbox = session.isSameConnection(as: sender)
        return pacing.withLock { ownInbox && $0.waiting == 0 && $0.bucket.takeIfAvailable() }
    }

    /// Whether a Jobs request of `sender` may be handled now, on the connection's event loop, ahead of the inbox:
    /// none of the thing's requests waits before it, on this connection or an earlier one. A turn taken counts as a
    /// request waiting until `jobsAnswered`: the inbox's task does not end while one is taken, so the thing's next
    /// connection cannot handle a request before this one is held.
    func takeJobsTurn(for sender: MQTTSessionContext) -> Bool {
        guard session.isSameConnection(as: sender), jobsOpen.load(ordering: .acquiring) else { return false }
        return jobsWaiting.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
    }

    /// Nothing queued and no turn taken (the inbox's task waits for this before it ends).
    var jobsIdle: Bool { jobsWaiting.load(ordering: .acquiring) == 0 }

    func queueJobs(_ item: Item) {
        jobsWaiting.add(1, ordering: .acquiringAndReleasing)
        switch jobs.yield(item) {
        case .enqueued: break
        case .dropped, .terminated: jobsAnswered()
        @unknown default: break
        }
    }

    /// The Jobs task has answered every earlier connection's requests and begins with this one's.
    func openJobs() {
        jobsOpen.store(true, ordering: .releasing)
    }

    /// A queued Jobs request was answered.
    func jobsAnswered() {
        jobsWaiting.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Queues a stream request that was refused a turn, or that was given one but needs the store (`charged`).
    func queueStream(_ item: Item) {
        pacing.withLock { $0.waiting += 1 }
        switch streams.yield(item) {
        case .enqueued: break
        // The oldest request made room for this one (the inbox keeps the newest), or the connection ended.
        case .dropped, .terminated: streamAnswered()
        @unknown default: break
        }
    }

    /// How long the next queued request waits for the rate (it is charged now; zero when already charged).
    func chargeQueued(_ item: Item) -> Duration {
        item.charged ? .zero : pacing.withLock { $0.bucket.take() }
    }

    /// A queued stream request was answered.
    func streamAnswered() {
        pacing.withLock { $0.waiting -= 1 }
    }

    func finish() {
        jobs.finish()
        streams.finish()
    }
}
