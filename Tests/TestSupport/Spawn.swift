import Foundation

// Child processes for tests without Foundation's Process: its termination monitor runs on a GCD queue, and a
// test blocked in waitUntilExit on each of a 2-core machine's cooperative threads starves that queue and
// deadlocks the whole test run. posix_spawn, poll and waitpid are plain system calls.

/// A spawned child with its stdout and stderr (merged or separate) on pipes.
final class SpawnedChild {
    let pid: pid_t
    let outputDescriptor: Int32
    let errorDescriptor: Int32?
    private(set) var status: Int32?

    /// Starts `path arguments`; stdin gets `stdin` then EOF. `mergeError` sends stderr to the stdout pipe.
    /// `environment`, when given, is the child's whole environment (else it inherits this process's).
    init(
        _ path: String, _ arguments: [String], stdin: Data? = nil, mergeError: Bool,
        environment: [String: String]? = nil
    ) throws {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        var inPipe: [Int32] = [0, 0]
        // Close-on-exec, so that a child spawned meanwhile by another test does not hold our pipes open (pipe2
        // is not exported to Swift here; the window between pipe and fcntl is a few instructions).
        for index in 0..<3 {
            let created = index == 0 ? pipe(&outPipe) : index == 1 ? pipe(&errPipe) : pipe(&inPipe)
            guard created == 0 else { throw POSIXError(.EMFILE) }
        }
        for descriptor in outPipe + errPipe + inPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, mergeError ? outPipe[1] : errPipe[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var child: pid_t = 0
        let result =
            envp == nil
            ? posix_spawn(&child, path, &actions, nil, argv, environ)
            : posix_spawn(&child, path, &actions, nil, argv, &envp!)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL)
        }
        pid = child
        if let stdin {
            stdin.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(inPipe[1], buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
        close(inPipe[1])
        outputDescriptor = outPipe[0]
        if mergeError {
            close(errPipe[0])
            errorDescriptor = nil
        } else {
            errorDescriptor = errPipe[0]
        }
    }

    /// Reads stdout and stderr to EOF (both at once, so a chatty child never blocks on a full pipe).
    func readAll() -> (Data, Data) {
        var output = Data()
        var error = Data()
        var open = [outputDescriptor] + (errorDescriptor.map { [$0] } ?? [])
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            for entry in descriptors where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == outputDescriptor {
                        output.append(contentsOf: buffer[0..<count])
                    } else {
                        error.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        return (output, error)
    }

    /// Waits for the child to end and returns its exit status (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let exited = raw & 0x7F == 0
        let value = exited ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        status = value
        return value
    }

    /// Whether the child is still running (reaps it when it has ended).
    var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            return false
        }
        return result == 0
    }
}
