// The agent's constants (aws-ota-wire.md §5.4, ESP32 column) and its fixed memory budget: one receive bitmap of
// at most 128 bytes (1024 blocks of 4 KiB = 4 MiB), the block payload borrowed from the received message (no
// copy), and a few scalars and short strings (job id ≤ 64, stream name ≤ 44, thing name ≤ 128, URL ≤ 1500).
// AgentBudgetTests checks these bounds.

public enum AgentLimits {
    public static let blockSize = 4096
    public static let maximumBitmapBytes = 128
    public static var maximumBlocks: Int { maximumBitmapBytes * 8 }
    public static var maximumFileSize: Int { maximumBlocks * blockSize }
    /// Blocks asked for per request (esp-aws-iot: 8).
    public static let blocksPerRequest = 8
    /// A request is repeated when no block arrived for this long.
    public static let requestWaitMilliseconds: UInt64 = 10_000
    /// Requests without an accepted block before the download is abandoned (FAILED "aborted: 0x00000000").
    public static let maximumMomentum = 32
    /// After a reboot into a new image, the job must confirm the self-test within this time or the device resets.
    public static let selfTestWaitMilliseconds: UInt64 = 16_000
    /// An unconfirmed image shown a job that is not its self-test asks again after this long (within the 16 s).
    public static let selfTestJobRetryMilliseconds: UInt64 = 2_000
    /// Progress is reported on the first block and every this many blocks.
    public static let statusFrequency = 25
    public static let maximumJobIDBytes = 64
    public static let maximumStreamNameBytes = 44
    /// The longest `update_data_url` taken (FreeRTOS `OTA_REQUEST_URL_MAX_SIZE`); S3 presigned URLs fit.
    public static let maximumURLBytes = 1500
}
