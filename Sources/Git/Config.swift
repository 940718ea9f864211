import CGit2
import Foundation

extension Repository {
    /// A value from the repository's effective git config (local, global, system).
    public func configString(_ key: String) throws -> String? {
        var config: OpaquePointer?
        try check(git_repository_config_snapshot(&config, pointer), "reading git config")
        defer { git_config_free(config) }
        var value: UnsafePointer<CChar>?
        let rc = git_config_get_string(&value, config, key)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "reading git config '\(key)'")
        return value.map { String(cString: $0) }
    }

    /// Sets `key` in the repository's own `.git/config`.
    public func setConfigString(_ key: String, _ value: String) throws {
        var config: OpaquePointer?
        try check(git_repository_config(&config, pointer), "opening git config")
        defer { git_config_free(config) }
        var local: OpaquePointer?
        try check(git_config_open_level(&local, config, GIT_CONFIG_LEVEL_LOCAL), "opening .git/config")
        defer { git_config_free(local) }
        try check(git_config_set_string(local, key, value), "setting git config '\(key)'")
    }
}
