import Foundation
import TensorStore
import XCTest

@testable import Registry

/// How LFS transfers over HTTP are set up: proxy and TLS settings read from git's
/// configuration and the environment as git-lfs reads them, and the batches objects are
/// asked for in.
final class LFSHTTPTests: XCTestCase {
    func settings(_ scheme: String = "https", environment: [String: String] = [:], config: [String: String] = [:]) -> HTTPSettings {
        HTTPSettings(scheme: scheme, environment: environment) { config[$0] }
    }

    func testTheProxyComesFromGitBeforeTheEnvironmentAndMatchesTheScheme() {
        let environment = ["https_proxy": "http://proxy.corp:3128", "HTTP_PROXY": "plain.corp:8080"]
        XCTAssertEqual(settings(environment: environment).proxy?.absoluteString, "http://proxy.corp:3128")
        XCTAssertEqual(settings("http", environment: environment).proxy?.absoluteString, "http://plain.corp:8080", "no scheme: HTTP")
        XCTAssertEqual(
            settings(environment: environment, config: ["http.proxy": "http://git.corp:1080"]).proxy?.absoluteString, "http://git.corp:1080"
        )
        XCTAssertNil(settings().proxy)
    }

    func testNoProxyHostsAndLoopbackGoDirect() {
        let proxied = settings(environment: ["https_proxy": "http://proxy.corp:3128", "no_proxy": "internal.corp, .s3.local,example.org"])
        XCTAssertTrue(proxied.proxies(URL(string: "https://github.com/shop/models.git/info/lfs")!))
        XCTAssertFalse(proxied.proxies(URL(string: "https://lfs.internal.corp/x")!), "a subdomain of a no_proxy entry")
        XCTAssertFalse(proxied.proxies(URL(string: "https://internal.corp/x")!))
        XCTAssertFalse(proxied.proxies(URL(string: "http://bucket.s3.local:9000/o")!), "a leading dot means the same")
        XCTAssertTrue(proxied.proxies(URL(string: "https://notexample.org/x")!), "a suffix only counts at a dot")
        XCTAssertFalse(proxied.proxies(URL(string: "http://127.0.0.1:8080/x")!))
        XCTAssertFalse(proxied.proxies(URL(string: "http://localhost:8080/x")!))
        XCTAssertFalse(settings(environment: ["https_proxy": "http://p:1", "NO_PROXY": "*"]).proxies(URL(string: "https://a.b/c")!))
        XCTAssertFalse(settings().proxies(URL(string: "https://github.com/x")!), "no proxy configured")
    }

    func testTLSVerificationAndCertificates() {
        XCTAssertTrue(settings().verifyTLS)
        XCTAssertFalse(settings(config: ["http.sslverify": "false"]).verifyTLS)
        XCTAssertTrue(settings(config: ["http.sslverify": "true"]).verifyTLS)
        XCTAssertEqual(settings(config: ["http.sslcainfo": "/etc/corp-ca.pem"]).caFile, "/etc/corp-ca.pem")
    }

    func testBatchesStartSmallAndGrowToTheLimit() {
        let pointers = (0..<64).map { LFSPointer(oid: String(format: "%064x", $0), size: 8 << 20) }
        let batches = HTTPTransfer.batches(pointers)
        XCTAssertEqual(batches.map(\.count), [1, 2, 4, 8, 16, 16, 16, 1])
        XCTAssertEqual(batches.flatMap { $0 }.map(\.oid), pointers.map(\.oid), "every object once, in order")
        XCTAssertEqual(HTTPTransfer.batches(Array(pointers.prefix(3))).map(\.count), [1, 2])
        XCTAssertTrue(HTTPTransfer.batches([]).isEmpty)
    }
}
