import Foundation

// Path parameters and form fields are percent-decoded on every request, the data plane's included (a request per
// 4 KiB block). Foundation's `removingPercentEncoding` goes through NSString even when there is nothing to decode,
// which cost about 4 % of the data plane's CPU (perf, `ota bench fleet --protocol http`); almost no name has a `%`.

extension StringProtocol {
    /// `removingPercentEncoding`: nil when a `%` is not followed by two hex digits or the bytes are not UTF-8; the
    /// text itself when it has no `%`, without the detour.
    var percentDecoded: String? {
        utf8.contains(UInt8(ascii: "%")) ? removingPercentEncoding : String(self)
    }
}
