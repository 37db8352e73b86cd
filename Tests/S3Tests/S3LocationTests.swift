import Testing

@testable import S3

@Suite struct S3LocationTests {
    @Test func parsesBucketsPrefixesAndKeys() throws {
        #expect(try S3Location(parsing: "s3://firmware") == S3Location(bucket: "firmware", prefix: ""))
        #expect(try S3Location(parsing: "s3://firmware/") == S3Location(bucket: "firmware", prefix: ""))
        #expect(try S3Location(parsing: "s3://firmware/fleet-a/") == S3Location(bucket: "firmware", prefix: "fleet-a/"))
        let object = try S3Location(parsing: "s3://my.bucket-1/a/b c/ü.bin")
        #expect(object.bucket == "my.bucket-1")
        #expect(object.prefix == "a/b c/ü.bin")
        #expect(object.description == "s3://my.bucket-1/a/b c/ü.bin")
    }

    @Test func joinsNamesUnderThePrefix() throws {
        #expect(try S3Location(bucket: "abc").key("x") == "x")
        #expect(try S3Location(bucket: "abc", prefix: "p/").key("x") == "p/x")
        #expect(try S3Location(bucket: "abc", prefix: "p").key("x") == "p/x")
    }

    @Test(arguments: [
        "", "firmware", "S3://bucket", "s3:/bucket", "http://bucket/key", "s3://", "s3:///key", "s3://ab",
        "s3://Bucket", "s3://bucket_name", "s3://-bucket", "s3://bucket-", "s3://my..bucket", "s3://192.168.5.4",
        "s3://xn--bucket", "s3://sthree-bucket", "s3://amzn-s3-demo-bucket", "s3://bucket-s3alias",
        "s3://bucket--ol-s3", "s3://bucket.mrap", "s3://bucket--x-s3", "s3://bucket--table-s3",
        "s3://" + String(repeating: "a", count: 64), "s3://bucket/" + String(repeating: "k", count: 1025),
        "s3://bucket/a\u{0}b", "s3://bucket/line\nbreak", "s3://bücket/key",
    ])
    func refusesWhatS3Would(_ uri: String) {
        #expect(throws: S3Error.self) { try S3Location(parsing: uri) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: S3Error.badLocation("bucket name 'my..bucket' must not contain two adjacent dots")) {
            try S3Location(parsing: "s3://my..bucket/k")
        }
        #expect(throws: S3Error.badLocation("'gs://x' is not an s3:// location (s3://BUCKET[/PREFIX])")) {
            try S3Location(parsing: "gs://x")
        }
    }

    @Test func acceptsTheLongestNames() throws {
        let bucket = String(repeating: "a", count: 63)
        let key = String(repeating: "k", count: 1024)
        #expect(try S3Location(parsing: "s3://\(bucket)/\(key)").prefix.utf8.count == 1024)
        #expect(try S3Location(parsing: "s3://1.2.3.bucket").bucket == "1.2.3.bucket")
    }
}

@Suite struct S3EndpointTests {
    @Test func awsIsVirtualHostedButDottedBucketsGoPathStyle() throws {
        let aws = try S3Endpoint.aws(region: "eu-central-1")
        #expect(aws.url == "https://s3.eu-central-1.amazonaws.com")
        #expect(!aws.pathStyle)
        #expect(
            aws.address(bucket: "firmware", key: "a/b.bin") == ("firmware.s3.eu-central-1.amazonaws.com", "/a/b.bin"))
        #expect(aws.address(bucket: "my.firmware", key: "a") == ("s3.eu-central-1.amazonaws.com", "/my.firmware/a"))
        #expect(aws.address(bucket: "firmware", key: nil) == ("firmware.s3.eu-central-1.amazonaws.com", "/"))
    }

    @Test func customEndpointsArePathStyleWithTheirPort() throws {
        let local = try S3Endpoint(url: "http://127.0.0.1:9000/", region: "us-east-1")
        #expect(local.url == "http://127.0.0.1:9000")
        #expect(local.address(bucket: "b1b", key: "k") == ("127.0.0.1:9000", "/b1b/k"))
        #expect(try S3Endpoint(url: "https://S3.Example.com:443", region: "x1").url == "https://s3.example.com")
        #expect(try S3Endpoint(url: "http://[::1]:9000", region: "x1").hostHeader == "[::1]:9000")
    }

    @Test(arguments: ["", "ftp://h", "http://", "http://h/path", "http://h?x=1", "http://u:p@h", "h:9000"])
    func refusesEndpointsThatAreNotSchemeHostPort(_ url: String) {
        #expect(throws: S3Error.self) { try S3Endpoint(url: url, region: "us-east-1") }
    }

    @Test(arguments: ["", "US-EAST-1", "us east", "us-east-1.evil.com/", "eu_west"])
    func refusesRegionsThatAreNotRegionNames(_ region: String) {
        #expect(throws: S3Error.self) { try S3Endpoint.aws(region: region) }
    }

    @Test func resolvesTheEndpointAsTheCLIDoes() throws {
        #expect(
            try S3Endpoint.resolve(environment: ["HOME": "/nonexistent"]).url == "https://s3.us-east-1.amazonaws.com")
        let custom = try S3Endpoint.resolve(environment: [
            "HOME": "/nonexistent", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            "AWS_ENDPOINT_URL_S3": "http://s3.local:2",
            "AWS_REGION": "eu-west-3",
        ])
        #expect(custom.url == "http://s3.local:2")
        #expect(custom.region == "eu-west-3")
        #expect(custom.pathStyle)
    }
}
