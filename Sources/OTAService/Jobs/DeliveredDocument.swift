import OTAWire

// A job document as it goes out: most are sent as stored; an HTTP update's has its URL placeholder replaced by a
// URL issued for this delivery (a new one every time, as AWS presigns on each delivery).

enum DeliveredDocument: Sendable {
    case fixed(JSONValue)
    case withDataURL(OTAJobDocument, StoredFile)

    init(stored: JSONValue, file: StoredFile?) throws {
        guard let file, let parsed = try? OTAJobDocument(parsing: stored),
            parsed.files.first?.updateDataURL == DataURLs.placeholder
        else {
            self = .fixed(stored)
            return
        }
        self = .withDataURL(parsed, file)
    }

    func render(for thing: String, at time: Int64, urls: DataURLs?) throws -> JSONValue {
        switch self {
        case .fixed(let document):
            return document
        case .withDataURL(var document, let file):
            guard let urls else {
                throw JobsRequestError(.internalError, "this service cannot issue data URLs for HTTP jobs")
            }
            document.files[0].updateDataURL = try urls.url(for: file, thing: thing, now: time)
            return document.json
        }
    }
}
