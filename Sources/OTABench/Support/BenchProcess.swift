import Foundation

/// A child process of a benchmark, whose resident memory can be read.
final class BenchProcess {
    private let process = Process()

    /// With `log`, the process's standard output and error go to that file (else nowhere).
    init(path: String, arguments: [String], log: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var logFile: FileHandle?
        if let log, FileManager.default.createFile(atPath: log, contents: nil) {
            logFile = FileHandle(forWritingAtPath: log)
        }
        process.standardOutput = logFile ?? FileHandle.nullDevice
        process.standardError = logFile ?? FileHandle.nullDevice
        // The child has its own copy of the descriptor once started: ours is closed either way.
        defer { try? logFile?.close() }
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// VmRSS: the resident set now, in bytes.
    func residentBytes() throws -> Int { try processMemory("VmRSS", of: "\(process.processIdentifier)") }

    /// VmHWM: the peak resident set so far, in bytes.
    func peakResidentBytes() throws -> Int { try processMemory("VmHWM", of: "\(process.processIdentifier)") }

    /// CPU time (user + system) the process has used so far, in seconds.
    func cpuSeconds() throws -> Double { try processCPUSeconds(of: "\(process.processIdentifier)") }

    /// Read and write system calls the process has made so far.
    func systemCalls() throws -> Int { try processSystemCalls(of: "\(process.processIdentifier)") }

    /// Time the process's live threads have run on a CPU, in nanoseconds (finer than `cpuSeconds`' clock ticks).
    func runNanoseconds() throws -> UInt64 { try processRunNanoseconds(of: "\(process.processIdentifier)") }

    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A memory figure (VmRSS, VmHWM, …) of process `pid` ("self": this one) from /proc, in bytes.
func processMemory(_ field: String, of pid: String = "self") throws -> Int {
    try processFigure(field, in: "status", of: pid) * 1024
}

/// Read and write system calls process `pid` has made so far: `syscr` + `syscw` of /proc/PID/io, which count the
/// read and write families (read, readv, write, writev, also on eventfds and timerfds) but not sendmsg or recvmsg.
func processSystemCalls(of pid: String) throws -> Int {
    try processFigure("syscr", in: "io", of: pid) + processFigure("syscw", in: "io", of: pid)
}

/// The sum over process `pid`'s live threads of their time on a CPU (the first figure of each
/// /proc/PID/task/TID/schedstat, in nanoseconds). Threads that have ended are not counted.
func processRunNanoseconds(of pid: String) throws -> UInt64 {
    let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
    var total: UInt64 = 0
    for task in tasks {
        // A thread may end between the listing and the read: it no longer counts.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8) else {
            continue
        }
        guard let first = stat.split(separator: " ").first, let nanoseconds = UInt64(first) else {
            throw BenchError.processFigureUnreadable(figure: "the run time of thread \(task)", pid: pid)
        }
        total += nanoseconds
    }
    return total
}

/// The number after "`field`:" in /proc/`pid`/`file`: "VmHWM:\t  123456 kB" (a tab, padding that large values do
/// not have, the figure, a unit) or "syscr: 42".
private func processFigure(_ field: String, in file: String, of pid: String) throws -> Int {
    let text = try String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let figure = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    else { throw BenchError.processFigureUnreadable(figure: field, pid: pid) }
    return figure
}

/// CPU time (user + system) process `pid` ("self": this one) has used so far, in seconds, from /proc.
func processCPUSeconds(of pid: String = "self") throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // utime and stime are fields 14 and 15; counting starts after the parenthesised command name (field 2).
    guard let close = stat.lastIndex(of: ")") else { throw BenchError.procFileUnreadable(path: "/proc/\(pid)/stat") }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
        throw BenchError.processFigureUnreadable(figure: "the CPU time", pid: pid)
    }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A line of progress on standard error, where it does not mix with the figures (or the JSON) on standard output.
func progress(_ line: String) {
    FileHandle.standardError.write(Data(("  " + line + "\n").utf8))
}

/// The path of the running `ota` executable, to start it again as a child.
func selfExecutable() throws -> String {
    let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return path
}
