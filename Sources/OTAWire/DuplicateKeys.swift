// Duplicate detection for JSON objects and CBOR maps, checked once per container after its members are read.
// Comparing each new key with every earlier one is quadratic: a 20,000-key request took seconds of a shared
// core. Sorting the keys' bytes and comparing neighbours is O(n log n) comparisons whatever the keys are; a hash
// set would be linear on average, but chosen colliding keys make it quadratic again, and it would pull Hashable
// machinery into the agent. The sort is a heapsort written here: worst case O(n log n), in place, and a few
// hundred bytes of device code where the standard library's generic stable sort costs kilobytes.

/// A key that occurs more than once in `keys` (as bytes), or nil when all keys differ.
func duplicateKey(_ keys: [[UInt8]]) -> [UInt8]? {
    var sorted = keys
    heapsort(&sorted)
    var index = 1
    while index < sorted.count {
        if !precedes(sorted[index - 1], sorted[index]) { return sorted[index] }
        index += 1
    }
    return nil
}

private func heapsort(_ keys: inout [[UInt8]]) {
    func siftDown(_ start: Int, _ end: Int) {
        var root = start
        while true {
            var child = 2 * root + 1
            guard child < end else { return }
            if child + 1 < end && precedes(keys[child], keys[child + 1]) { child += 1 }
            guard precedes(keys[root], keys[child]) else { return }
            keys.swapAt(root, child)
            root = child
        }
    }
    var start = keys.count / 2
    while start > 0 {
        start -= 1
        siftDown(start, keys.count)
    }
    var end = keys.count
    while end > 1 {
        end -= 1
        keys.swapAt(0, end)
        siftDown(0, end)
    }
}

/// Byte-wise lexicographic order (shorter first when one is a prefix of the other).
private func precedes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var index = 0
    let common = min(lhs.count, rhs.count)
    while index < common {
        if lhs[index] != rhs[index] { return lhs[index] < rhs[index] }
        index += 1
    }
    return lhs.count < rhs.count
}
