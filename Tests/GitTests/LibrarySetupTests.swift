import CGit2
import CMbedTLSStandIns
import Foundation
import TestSupport
import XCTest

@testable import Git

final class LibrarySetupTests: GitTestCase {
    /// libgit2's initialisation reached mv's stand-in for the CA bundle parser and loaded
    /// nothing; afterwards the real parser answers again, so an explicit bundle still loads.
    func testInitialisationSkipsTheCertificateBundleOnly() throws {
        // Debian's libgit2 1.5 does HTTPS with mbedTLS; one built with OpenSSL never calls these.
        let process = dlopen(nil, RTLD_NOW)
        defer { if let process { dlclose(process) } }
        guard dlsym(process, "mbedtls_ssl_init") != nil else { throw XCTSkip("libgit2 here does not use mbedTLS") }
        _ = try Repository.create(at: root.path)
        XCTAssertEqual(mv_skipped_certificate_bundles(), 1, "libgit2 called mv's definition once, during its initialisation")

        let missing = root.appendingPathComponent("no-such-bundle.pem").path
        XCTAssertLessThan(mv_git_set_ssl_cert_file(missing), 0, "a missing bundle is an error: the real parser ran")
        let pem = root.appendingPathComponent("not-a-certificate.pem")
        try Data("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".utf8).write(to: pem)
        XCTAssertLessThan(mv_git_set_ssl_cert_file(pem.path), 0, "a malformed bundle is refused by the real parser")
        let system = "/etc/ssl/certs/ca-certificates.crt"
        if FileManager.default.fileExists(atPath: system) {
            XCTAssertEqual(mv_git_set_ssl_cert_file(system), 0, "the system bundle loads when asked for")
        }
        XCTAssertEqual(mv_skipped_certificate_bundles(), 1, "nothing skipped after initialisation")
    }
}
