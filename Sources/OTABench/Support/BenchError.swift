/// Why a benchmark could not run or finish. `ota` prints it as "Error: …".
public enum BenchError: Error, CustomStringConvertible {
    /// posix_spawn refused `path`.
    case cannotStart(path: String, reason: String)
    /// A baseline tool's run did not exit with status 0.
    case processFailed(command: String, status: Int32)
    /// A baseline tool is not installed in any of `searched`.
    case toolMissing(name: String, searched: [String])
    /// A figure (VmRSS, the CPU time, …) of process `pid` could not be read from /proc.
    case processFigureUnreadable(figure: String, pid: String)
    case procFileUnreadable(path: String)
    /// A server process under measurement exited before it listened.
    case serverExited(name: String)
    case serverNotListening(name: String, port: Int, seconds: Int)
    case devicesTimedOut
    case jobMissing

    public var description: String {
        switch self {
        case .cannotStart(let path, let reason): "cannot start \(path): \(reason)"
        case .processFailed(let command, let status): "\(command) failed (status \(status))"
        case .toolMissing(let name, let searched):
            "\(name) is needed but was not found in \(searched.joined(separator: ", ")) (Debian: apt-get install \(name))"
        case .processFigureUnreadable(let figure, let pid): "cannot read \(figure) of process \(pid)"
        case .procFileUnreadable(let path): "cannot read \(path)"
        case .serverExited(let name): "\(name) exited before listening"
        case .serverNotListening(let name, let port, let seconds):
            "\(name) did not listen on port \(port) within \(seconds) s"
        case .devicesTimedOut: "timed out waiting for the devices"
        case .jobMissing: "the bench job is missing"
        }
    }
}
