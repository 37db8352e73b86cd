import CodeSigning
import Crypto
import ESP32Formats
import OTAAgent
import OTAWire

// The agent's platform on the simulated ESP32, following the FreeRTOS ESP32 port (aws-ota-wire.md §6.3): the
// receive file is the passive OTA slot; closeFile checks the ECDSA P-256 signature of the whole file with the
// code-signing certificate and appends the secure boot v1 block; activate sets the boot partition and resets;
// image states map to otadata. Once the new image is confirmed (otadata VALID), every other app slot holding an
// older image is erased (the factory app too unless the device keeps it as a recovery image), so that no forced
// rollback is possible; a boot of a confirmed image finishes an erase a power cut stopped. A power cut inside any
// flash operation powers the port off: every later call fails and the device must be booted again.

public final class ESP32Port: OTAPlatform {
    public private(set) var chip: SimulatedChip
    public let boot: BootOutcome
    let operations: OTAOperations
    let store: AgentStore
    let codeSigningKey: P256.Signing.PublicKey
    let clock: () -> UInt64
    /// Keep the factory app when older images are erased (a recovery image, at the price of a signed older
    /// firmware that flash access can boot again).
    let keepFactoryApp: Bool
    private var receiveSlot: Partition?
    private var receiveSize = 0

    /// Set when the port asked for a reset (activate, reset): the device reboots.
    public private(set) var resetRequested = false
    /// Set when a power cut hit a flash operation.
    public private(set) var poweredOff: PowerCut?

    public init(
        chip: SimulatedChip, boot: BootOutcome, codeSigningKey: P256.Signing.PublicKey,
        keepFactoryApp: Bool = false, clock: @escaping () -> UInt64
    ) throws {
        self.chip = chip
        self.boot = boot
        operations = try chip.operations(after: boot)
        store = try AgentStore(flash: chip.flash, layout: operations.layout)
        self.codeSigningKey = codeSigningKey
        self.keepFactoryApp = keepFactoryApp
        self.clock = clock
        if (try? operations.runningState()) == .valid {
            // A power cut may have stopped the erase that followed the confirmation: finish it. The slot a saved
            // download is being written to holds no older image.
            _ = flash({ try eraseOlderImages(skip: store.load() == nil ? nil : operations.nextUpdatePartition) })
        }
    }

    public var runningVersion: AppVersion32 { AppVersion32(boot.descriptor.version) ?? AppVersion32(rawValue: 0) }
    public var nowMilliseconds: UInt64 { clock() }

    public func createFile(size: UInt32, fileType: UInt32) -> PALStatus {
        let slot = operations.nextUpdatePartition
        guard Int(size) + SecureBootV1SignatureBlock.size <= Int(slot.size) else { return .fileTooLarge }
        guard flash({ try operations.begin(slot, size: Int(size) + SecureBootV1SignatureBlock.size) }) else {
            return .receiveFileCreateFailed
        }
        receiveSlot = slot
        receiveSize = Int(size)
        return .success
    }

    public func reopenFile(size: UInt32, fileType: UInt32) -> PALStatus {
        guard poweredOff == nil, (try? operations.runningState()) != .pendingVerify else { return .uninitialized }
        receiveSlot = operations.nextUpdatePartition
        receiveSize = Int(size)
        return .success
    }

    public func writeBlock(offset: UInt32, bytes: ArraySlice<UInt8>) -> PALStatus {
        guard let slot = receiveSlot, Int(offset) + bytes.count <= receiveSize else { return .uninitialized }
        return flash({ try operations.write(slot, offset: Int(offset), Array(bytes)) }) ? .success : .uninitialized
    }

    public func closeFile(signature: [UInt8], certificate: ByteString) -> PALStatus {
        guard let slot = receiveSlot, poweredOff == nil else { return .uninitialized }
        guard let file = try? chip.flash.read(Int(slot.offset), count: receiveSize),
            let decoded = try? CodeSignature(der: signature),
            (try? CodeSigner.verify(file, signature: decoded, publicKey: codeSigningKey)) != nil
        else {
            // Like the ESP32 port: a file that does not verify is erased.
            _ = flash({ try operations.begin(slot, size: receiveSize) })
            receiveSlot = nil
            return .signatureCheckFailed
        }
        guard let image = try? AppImage(bytes: file), image.imageLength == file.count,
            let block = try? SecureBootV1SignatureBlock(signature: decoded.raw)
        else {
            receiveSlot = nil
            return .fileClose
        }
        guard flash({ try operations.write(slot, offset: receiveSize, block.encoded()) }) else { return .fileClose }
        guard flash({ try operations.end(slot, efuses: chip.efuses) }) else {
            receiveSlot = nil
            return .fileClose
        }
        return .success
    }

    public func activate() -> PALStatus {
        guard let slot = receiveSlot else { return .activateFailed }
        guard flash({ try operations.setBootPartition(slot, efuses: chip.efuses) }) else { return .activateFailed }
        resetRequested = true
        return .success
    }

    public func reset() { resetRequested = true }

    public func setImageState(_ state: OTAImageState) -> PALStatus {
        guard poweredOff == nil else { return .badImageState }
        let pending = (try? operations.runningState()) == .pendingVerify
        switch state {
        case .accepted where pending:
            var efuses = chip.efuses
            let ok = flash({
                try operations.markRunningValid(efuses: &efuses, secureVersion: Int(boot.descriptor.secureVersion))
            })
            chip.efuses = efuses
            guard ok else { return .commitFailed }
            // Only now that VALID is durable: a cut before this point boots the old image, which must still exist.
            // The commit stands whatever the erase does; the next boot finishes an erase that did not.
            _ = flash({ try eraseOlderImages(skip: nil) })
            return .success
        case .rejected where pending:
            return flash({ try operations.markRunningInvalid() }) ? .success : .badImageState
        default:
            return .success
        }
    }

    public func imageState() -> PlatformImageState {
        switch try? operations.runningState() {
        case .pendingVerify: return .pendingCommit
        case .valid: return .valid
        case .invalid, .aborted: return .invalid
        default: return .unknown  // the factory app, a fallback boot, NEW/UNDEFINED, unreadable otadata
        }
    }

    public func abortFile() { receiveSlot = nil }

    public func loadState() -> [UInt8]? { store.load() }

    public func saveState(_ bytes: [UInt8]) { _ = flash({ try store.save(bytes) }) }

    private func eraseOlderImages(skip: Partition?) throws {
        try operations.eraseOlderImages(
            runningVersion: boot.descriptor.version, keepFactory: keepFactoryApp, skip: skip)
    }

    /// Runs a flash operation; false when it failed, and a power cut powers the port off for good.
    private func flash(_ body: () throws -> Void) -> Bool {
        guard poweredOff == nil else { return false }
        do {
            try body()
            return true
        } catch let cut as PowerCut {
            poweredOff = cut
            return false
        } catch {
            return false
        }
    }
}
