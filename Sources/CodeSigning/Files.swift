import Foundation

/// Whole-file reads and atomic writes for the command line and the tools beside it (benchmarks, demo): plain files,
/// unlike KeyFiles, which guards key material.
public enum Files {
    public static func read(_ path: String) throws(FileError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .cannotRead(path: path) }
        return Array(data)
    }

    /// Writes atomically (temporary file + rename), so an interrupted command never leaves half a file.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}

/// A file that could not be read or written, and why.
public enum FileError: Error, CustomStringConvertible {
    case cannotRead(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let path): "cannot read \(path): no such file or not readable"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
