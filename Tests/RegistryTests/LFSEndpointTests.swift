import Foundation
import XCTest

@testable import Registry

/// Where a remote's LFS objects live, derived as git-lfs derives it.
final class LFSEndpointTests: XCTestCase {
    let base = URL(fileURLWithPath: "/work/clone")

    func endpoint(_ url: String, explicit: Bool = false) throws -> String {
        try LFSEndpoint.parse(url, explicit: explicit, base: base).description
    }

    func testHTTPSRemotesGetInfoLFSWithoutADoubledDotGit() throws {
        XCTAssertEqual(try endpoint("https://github.com/shop/models.git"), "https://github.com/shop/models.git/info/lfs")
        XCTAssertEqual(try endpoint("https://github.com/shop/models"), "https://github.com/shop/models.git/info/lfs")
        XCTAssertEqual(try endpoint("https://huggingface.co/shop/models/"), "https://huggingface.co/shop/models.git/info/lfs")
        XCTAssertEqual(try endpoint("http://127.0.0.1:8080/team/m.git"), "http://127.0.0.1:8080/team/m.git/info/lfs")
        XCTAssertEqual(
            try endpoint("https://lfs.example.com/team/m.git/info/lfs", explicit: true), "https://lfs.example.com/team/m.git/info/lfs",
            "lfs.url is taken as it is")
    }

    func testSSHRemotesAskTheSameHostOverHTTPS() throws {
        XCTAssertEqual(try endpoint("git@github.com:shop/models.git"), "https://github.com/shop/models.git/info/lfs")
        XCTAssertEqual(try endpoint("ssh://git@gitlab.com:2222/group/models.git"), "https://gitlab.com/group/models.git/info/lfs")
    }

    func testPathsAndFileURLsUseTheRepositorysOwnStore() throws {
        XCTAssertEqual(try endpoint("/srv/git/models.git"), "/srv/git/models.git/lfs")
        XCTAssertEqual(try endpoint("file:///srv/git/models.git"), "/srv/git/models.git/lfs")
        XCTAssertEqual(try endpoint("../server.git"), "/work/server.git/lfs")
    }
}
