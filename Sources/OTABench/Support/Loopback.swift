import Foundation
import RawClients

/// Whether something listens on 127.0.0.1:`port` (a server the bench started is up).
func canConnect(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    return LoopbackPort.withAddress(of: port) { connect(descriptor, $0, $1) } == 0
}
