import Foundation
import RawClients

/// A tool running beside a test (a broker, a subscriber, `ota serve`): started, read, and killed by the test.
/// Its output is collected by a plain thread (not GCD: see Spawn.swift).
public final class BackgroundProcess: @unchecked Sendable {
    private let child: SpawnedChild
    private let lock = NSLock()
    private var collected = Data()
    private var reader: Thread?
    private var outputEnded = false

    /// `environment`, when given, is the tool's whole environment (else it inherits this process's).
    public init(_ name: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        child = try SpawnedChild(
            try ExternalTools.locate(name), arguments, mergeError: true, environment: environment)
        let descriptor = child.outputDescriptor
        let thread = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                guard let self else { break }
                self.lock.withLock { self.collected.append(contentsOf: buffer[0..<count]) }
            }
            close(descriptor)
            self?.lock.withLock { self?.outputEnded = true }
        }
        reader = thread
        thread.start()
    }

    /// Everything printed so far (stdout and stderr).
    public var text: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }
    public var isRunning: Bool { lock.withLock { child.isRunning } }
    /// The names of its threads now, from /proc (Linux cuts them to 15 bytes).
    public var threadNames: [String] {
        let tasks = "/proc/\(child.pid)/task"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return ids.compactMap { id in
            (try? String(contentsOfFile: "\(tasks)/\(id)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
    public var exitStatus: Int32? { isRunning ? nil : lock.withLock { child.wait() } }

    /// SIGKILL: the process gets no chance to say goodbye (a power cut for a client).
    public func kill() {
        if isRunning { Foundation.kill(child.pid, SIGKILL) }
        lock.withLock { _ = child.wait() }
    }

    /// SIGTERM, then up to `seconds` for the process to end (SIGKILL after that), and reaps it.
    public func terminate(within seconds: Double = 10) {
        guard isRunning else { return }
        Foundation.kill(child.pid, SIGTERM)
        if !waitForExit(within: seconds) { Foundation.kill(child.pid, SIGKILL) }
        lock.withLock { _ = child.wait() }
    }

    /// Waits for the process to end by itself, up to `seconds`; true when it did. Then also waits (within the same
    /// deadline) until its last output has been read, so `text` is complete: the process can exit before the
    /// reader thread has drained the pipe (a loaded CI machine showed mosquitto_sub's last line missing).
    public func waitForExit(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(20_000) }
        while !lock.withLock({ outputEnded }) && Date() < deadline { usleep(5_000) }
        return !isRunning
    }

    deinit {
        if child.isRunning {
            Foundation.kill(child.pid, SIGKILL)
            child.wait()
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for tools that cannot be told to pick one (see `LoopbackPort`).
public func freeLoopbackPort() throws -> Int {
    try LoopbackPort.free()
}
