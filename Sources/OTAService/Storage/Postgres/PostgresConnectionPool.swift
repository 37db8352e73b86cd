import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

// A small pool of PostgreSQL connections, each lent to one transaction at a time. A connection that broke (the
// server restarted, the network dropped) is closed and forgotten when it comes back; the next transaction opens a
// fresh one, so the service resumes by itself once PostgreSQL is back. While it cannot connect, callers get
// `StoreError.unavailable` at once instead of waiting.

final class PostgresConnectionPool: Sendable {
    let url: PostgresDatabaseURL
    let maximumConnections: Int
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let nextID = Atomic<Int>(1)

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        /// Transactions waiting for a connection: resumed with one, or with nil to open their own.
        var waiters: [CheckedContinuation<PostgresConnection?, Never>] = []
        var closed = false
    }

    init(url: PostgresDatabaseURL, maximumConnections: Int, logger: Logger) throws {
        self.url = url
        self.maximumConnections = max(1, maximumConnections)
        self.logger = logger
        configuration = try url.connectionConfiguration()
    }

    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Opens a connection outside the pool (LISTEN needs one of its own); the caller closes it.
    func connectDedicated() async throws -> PostgresConnection {
        try await connect()
    }

    /// Closes the idle connections, and each lent one when it comes back; later transactions are refused.
    func close() async {
        let (connections, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for connection in connections { try? await connection.close() }
    }

    deinit {
        // A store dropped without close(): its connections still close, each kept until the server has let go.
        for connection in state.withLock({ $0.idle }) { Self.closeInBackground(connection) }
    }

    private static func closeInBackground(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func acquire() async throws -> PostgresConnection {
        enum Next {
            case use(PostgresConnection)
            case open
            case wait
            case closed
        }
        while true {
            let next: Next = state.withLock { state in
                if state.closed { return .closed }
                while let connection = state.idle.popLast() {
                    if !connection.isClosed { return .use(connection) }
                    state.open -= 1
                }
                if state.open < maximumConnections {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch next {
            case .use(let connection):
                return connection
            case .closed:
                throw StoreError.unavailable("the store is closed")
            case .open:
                return try await openCounted()
            case .wait:
                let handed: PostgresConnection? = await withCheckedContinuation { continuation in
                    let queued = state.withLock { state -> Bool in
                        // Released between the decision and now: look again rather than wait for nobody.
                        guard state.idle.isEmpty, state.open >= maximumConnections, !state.closed else { return false }
                        state.waiters.append(continuation)
                        return true
                    }
                    if !queued { continuation.resume(returning: nil) }
                }
                if let handed { return handed }
            }
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot back when it cannot.
    private func openCounted() async throws -> PostgresConnection {
        do {
            return try await connect()
        } catch {
            let waiter = state.withLock { state -> CheckedContinuation<PostgresConnection?, Never>? in
                state.open -= 1
                return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
            }
            waiter?.resume(returning: nil)
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        enum Next {
            case kept
            case close
            case handTo(CheckedContinuation<PostgresConnection?, Never>, PostgresConnection?)
        }
        let healthy = !connection.isClosed
        let next = state.withLock { state -> Next in
            if state.closed || !healthy { state.open -= 1 }
            if state.closed { return .close }
            if let waiter = state.waiters.first {
                state.waiters.removeFirst()
                // A healthy connection goes straight to the next transaction; a broken one's slot lets it open its own.
                return .handTo(waiter, healthy ? connection : nil)
            }
            if healthy { state.idle.append(connection) }
            return .kept
        }
        switch next {
        case .kept: break
        case .close: Self.closeInBackground(connection)
        case .handTo(let waiter, let handed): waiter.resume(returning: handed)
        }
    }

    private func connect() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger)
        } catch {
            throw PostgresErrors.translate(error, context: "connecting to \(url)")
        }
    }
}
