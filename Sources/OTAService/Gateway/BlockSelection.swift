import OTAWire

// Which blocks one GetStream request returns (aws-ota-wire.md §5.3), as a pure function: with a bitmap, every
// block whose bit is set (bit index + offset), at most `n`; without one, the range offset ..< offset + n. Never
// more than 128 KiB of payload per request, never a block past the end of the file.

public enum BlockSelection {
    public static let blockSizeRange: ClosedRange<UInt64> = 256...131_072
    public static let maximumOffset: UInt64 = 98_304
    public static let maximumBlockCount: UInt64 = 98_304
    public static let maximumBitmapBytes = 12_288
    public static let maximumPayloadPerRequest: UInt64 = 131_072

    public static func blocks(for request: StreamRequest, fileSize: UInt64) throws(StreamRequestError) -> [UInt64] {
        let token = request.clientToken
        guard blockSizeRange.contains(request.blockSize) else {
            throw StreamRequestError(
                .blockSizeOutOfBounds, "block size \(request.blockSize) is outside 256...131072", clientToken: token)
        }
        let blockCount = (fileSize + request.blockSize - 1) / request.blockSize
        guard request.blockOffset <= maximumOffset, request.blockOffset < blockCount else {
            throw StreamRequestError(
                .offsetOutOfBounds, "block offset \(request.blockOffset) is past the file's \(blockCount) blocks",
                clientToken: token)
        }
        if let n = request.numberOfBlocks, n > maximumBlockCount {
            throw StreamRequestError(.blockCountLimitExceeded, "at most 98304 blocks per request", clientToken: token)
        }
        // n = 0 or absent: as many as fit in one 128 KiB response.
        let perResponse = maximumPayloadPerRequest / request.blockSize
        let limit = min(request.numberOfBlocks.flatMap { $0 == 0 ? nil : $0 } ?? perResponse, perResponse)
        var selected: [UInt64] = []
        if let bitmap = request.bitmap {
            guard bitmap.count <= maximumBitmapBytes else {
                throw StreamRequestError(
                    .blockBitmapLimitExceeded, "the bitmap exceeds 12288 bytes", clientToken: token)
            }
            outer: for (byteIndex, byte) in bitmap.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                    let block = request.blockOffset + UInt64(byteIndex * 8 + bit)
                    guard block < blockCount else { break outer }
                    selected.append(block)
                    if UInt64(selected.count) == limit { break outer }
                }
            }
        } else {
            let end = min(request.blockOffset + limit, blockCount)
            selected = Array(request.blockOffset..<end)
        }
        return selected
    }
}
