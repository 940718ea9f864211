import Foundation
import Git
import ModelFormat
import SystemIO

/// `.mv/stages/<model>.yaml`: the current stage holders, rewritten from the tags on every
/// stage change, so `git log -p` on it reads as a promotion journal.
enum StagesFile {
    static func path(_ model: ModelName) -> String { ".mv/stages/\(model).yaml" }

    static func render(_ state: ModelState) -> String {
        let stages = state.holders.keys.sorted().map { stage -> (String, YAMLValue) in
            guard let holder = state.holders[stage] else { return (stage, .null) }
            let event = state.events.last { $0.tag == holder.tag }
            let fields = event.map { Trailers.parse($0.message) } ?? Trailers()
            var map: [(String, YAMLValue)] = [("version", .string(holder.label)), ("tag", .string(holder.tag))]
            if let by = fields["By"] ?? event?.tagger { map.append(("by", .string(by))) }
            map.append(("at", .string(fields["At"] ?? Environment.timestamp(holder.time))))
            if let reason = fields["Reason"] { map.append(("reason", .string(reason))) }
            return (stage, .map(map))
        }
        var root: [(String, YAMLValue)] = [("model", .string(state.model.value)), ("stages", .map(stages))]
        let deprecated = state.allVersions.filter { !state.isActive($0) }
        if !deprecated.isEmpty { root.append(("deprecated_versions", .list(deprecated.map { .string($0.description) }))) }
        return "# Stage holders of \(state.model), rewritten by mv from its tags (the tags are the source of truth)\n"
            + YAMLValue.map(root).yamlDocument()
    }
}
