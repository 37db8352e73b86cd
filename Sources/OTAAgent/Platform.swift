// What the agent needs from the device (aws-ota-wire.md §6.3): the PAL, a small persistent store and a clock,
// and from the network: publish and subscribe, and HTTP range requests on hosts that download over HTTP. Generic
// parameters, not existentials, so that the agent compiles in Embedded Swift and a port pays for nothing it does
// not use.
import OTAWire

/// A PAL result: 0 is success; otherwise the FreeRTOS PAL main code (0xe0…0xee) and a 24-bit sub code, which
/// the agent reports as `"0x<main>: 0x<sub>"` (§3.4).
public struct PALStatus: Equatable, Sendable {
    public let main: UInt8
    public let sub: UInt32

    public init(main: UInt8, sub: UInt32 = 0) {
        self.main = main
        self.sub = sub
    }

    public static let success = PALStatus(main: 0)
    public static let uninitialized = PALStatus(main: 0xE0)
    public static let signatureCheckFailed = PALStatus(main: 0xE3)
    public static let receiveFileCreateFailed = PALStatus(main: 0xE4)
    public static let fileTooLarge = PALStatus(main: 0xE5)
    public static let badSignerCertificate = PALStatus(main: 0xE7)
    public static let badImageState = PALStatus(main: 0xE8)
    public static let commitFailed = PALStatus(main: 0xEB)
    public static let activateFailed = PALStatus(main: 0xEC)
    public static let fileClose = PALStatus(main: 0xEE)

    public var isSuccess: Bool { main == 0 }
}

/// `getPlatformImageState`: what the running image is.
public enum PlatformImageState: Equatable, Sendable {
    /// Booted after an update and not yet confirmed: a self-test is due.
    case pendingCommit
    /// Confirmed: the bootloader's record says VALID.
    case valid
    case invalid
    /// No record says (a factory app, an image booted by the bootloader's fallback), or it cannot be read.
    case unknown
}

/// The device side of the agent. A port implements it over its flash and bootloader (ESP32: esp_ota_*).
public protocol OTAPlatform {
    /// The firmware version compiled into the running image.
    var runningVersion: AppVersion32 { get }
    /// Milliseconds from any fixed origin; only differences are used.
    var nowMilliseconds: UInt64 { get }

    /// Opens the receive file (the passive slot), erasing what it needs for `size` bytes.
    mutating func createFile(size: UInt32, fileType: UInt32) -> PALStatus
    /// Opens the receive file again after a reboot, without erasing: the persisted bitmap says what it holds.
    mutating func reopenFile(size: UInt32, fileType: UInt32) -> PALStatus
    /// Writes a whole block at `offset`; out-of-order writes are fine.
    mutating func writeBlock(offset: UInt32, bytes: ArraySlice<UInt8>) -> PALStatus
    /// Authenticates the file (SHA-256 + ECDSA P-256 of the DER `signature`) and closes it.
    mutating func closeFile(signature: [UInt8], certificate: ByteString) -> PALStatus
    /// Makes the new image boot and resets (or schedules the reset and returns success).
    mutating func activate() -> PALStatus
    /// Resets the device (after a rejected self-test the bootloader then rolls back).
    mutating func reset()
    /// Accepted / Rejected / Aborted / Testing, on the running image during a self-test, else on the file.
    mutating func setImageState(_ state: OTAImageState) -> PALStatus
    func imageState() -> PlatformImageState
    /// Stops using the receive file.
    mutating func abortFile()

    /// The agent's persisted download (nil when none was saved or it does not read back).
    func loadState() -> [UInt8]?
    /// Saves it so that a download resumes after a reboot or power loss; an empty array clears it.
    mutating func saveState(_ bytes: [UInt8])
}

/// The network the agent runs over: the MQTT session, and optionally HTTP for the data plane (§8).
public protocol OTAConnection {
    /// Topics are UTF-8 bytes, as MQTT carries them.
    mutating func publish(topic: [UInt8], payload: [UInt8], qos: UInt8)
    mutating func subscribe(_ filter: [UInt8], qos: UInt8)
    mutating func unsubscribe(_ filter: [UInt8])
    /// What this host can download over; MQTT only unless it says otherwise (the default in DataProtocol.swift).
    var dataProtocols: OTADataProtocols { get }
    /// Starts `GET request.url` with `Range: request.rangeHeader` and later answers with
    /// `OTAAgent.handleHTTPResponse(to:status:body:)` (status 0 when no response came: connection refused or lost,
    /// TLS failure, timeout). The agent has at most one request outstanding; a new one supersedes an older one,
    /// whose late answer the agent ignores. Only called when `dataProtocols` contains `.http`.
    mutating func getRange(_ request: HTTPRangeRequest)
}
