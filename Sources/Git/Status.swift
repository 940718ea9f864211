import CGit2
import Foundation

/// One path whose index or work-tree state differs from HEAD.
public struct StatusEntry: Sendable, Equatable {
    public let path: String
    public let isStaged: Bool
    public let isUntracked: Bool
    /// The work-tree file differs from the index.
    public let isChangedInWorkTree: Bool
}

extension Repository {
    /// Changed, staged and (when asked) untracked paths, optionally only those under
    /// `prefix` (a folder, matched literally, not as a pathspec pattern).
    /// A bare repository has no work tree, so nothing in it differs: none.
    public func status(under prefix: String? = nil, includeUntracked: Bool = true) throws -> [StatusEntry] {
        guard !isBare else { return [] }
        var options = git_status_options()
        try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "reading status")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        var flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue
        if includeUntracked {
            flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
        }
        options.flags = flags

        var list: OpaquePointer?
        if let prefix {
            var cString = strdup(prefix)
            defer { free(cString) }
            try withUnsafeMutablePointer(to: &cString) { strings in
                options.pathspec = git_strarray(strings: strings, count: 1)
                try check(git_status_list_new(&list, pointer, &options), "reading status")
            }
        } else {
            try check(git_status_list_new(&list, pointer, &options), "reading status")
        }
        defer { git_status_list_free(list) }

        // libgit2 1.5 ignores the skip-worktree bit: git itself treats such paths as unchanged.
        let repositoryIndex = try self.index()
        let staged =
            GIT_STATUS_INDEX_NEW.rawValue | GIT_STATUS_INDEX_MODIFIED.rawValue | GIT_STATUS_INDEX_DELETED.rawValue
            | GIT_STATUS_INDEX_RENAMED.rawValue | GIT_STATUS_INDEX_TYPECHANGE.rawValue
        return (0..<git_status_list_entrycount(list)).compactMap { index -> StatusEntry? in
            guard let entry = git_status_byindex(list, index)?.pointee else { return nil }
            let delta = entry.index_to_workdir ?? entry.head_to_index
            guard let delta, let cPath = delta.pointee.new_file.path ?? delta.pointee.old_file.path else { return nil }
            let path = String(cString: cPath)
            if let prefix, !(path == prefix || path.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")) { return nil }
            let workTree =
                GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_DELETED.rawValue | GIT_STATUS_WT_TYPECHANGE.rawValue
                | GIT_STATUS_WT_RENAMED.rawValue
            if entry.status.rawValue & staged == 0 && entry.status.rawValue & workTree != 0 && repositoryIndex.skipsWorktree(path) {
                return nil
            }
            return StatusEntry(
                path: path, isStaged: entry.status.rawValue & staged != 0,
                isUntracked: entry.status == GIT_STATUS_WT_NEW,
                isChangedInWorkTree: entry.status.rawValue & workTree != 0)
        }
    }
}
