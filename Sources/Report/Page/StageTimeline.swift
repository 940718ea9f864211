import Foundation
import Registry

/// The stage timeline of a model, built from its stage tags as `mv history` reads them.
enum StageTimeline {
    /// nil when no stage was ever assigned.
    static func svg(_ state: ModelState) -> String? {
        let events = state.events.enumerated().filter { $0.element.stage != nil }
            .filter { $0.element.kind == .assignment || $0.element.kind == .unassignment }
            .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        guard !events.isEmpty else { return nil }
        let versionAt = Dictionary(state.versionCommits.map { ($0.value, $0.key) }, uniquingKeysWith: { max($0, $1) })
        let versionOrder = Dictionary(
            state.allVersions.sorted().enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let lanes = orderedStages(events.compactMap(\.stage))
        var holding: [String: (since: Double, label: String, color: Int)] = [:]
        var bars: [Timeline.Bar] = []
        var marks: [Timeline.Mark] = []
        for (index, event) in events.enumerated() {
            guard let stage = event.stage, let lane = lanes.firstIndex(of: stage) else { continue }
            let at = Double(index)
            if let open = holding.removeValue(forKey: stage) {
                bars.append(Timeline.Bar(lane: lane, from: open.since, to: at, label: open.label, colorIndex: open.color, current: false))
            }
            let fields = Trailers.parse(event.message)
            let version = event.version ?? versionAt[event.commit]
            let label = version?.description ?? String(event.commit.description.prefix(8))
            switch event.kind {
            case .assignment:
                holding[stage] = (at, label, version.flatMap { versionOrder[$0] } ?? 0)
                if let from = fields["Rollback-From"] {
                    marks.append(Timeline.Mark(lane: lane, at: at, kind: .rollback, text: "\(label) back from \(from)"))
                }
                if let reason = fields["Gate-Override"] {
                    marks.append(Timeline.Mark(lane: lane, at: at, kind: .override, text: "\(label): \(reason)"))
                }
            default:
                marks.append(Timeline.Mark(lane: lane, at: at, kind: .demotion, text: "\(label) left \(stage)"))
            }
        }
        let end = Double(events.count)
        for (stage, open) in holding {
            guard let lane = lanes.firstIndex(of: stage) else { continue }
            bars.append(Timeline.Bar(lane: lane, from: open.since, to: end, label: open.label, colorIndex: open.color, current: true))
        }
        // Within one day the ticks give the time and the axis the day; across days, both.
        let days = Set(events.map { Document.stamp($0.time).prefix(10) })
        let day = days.count == 1 ? days.first.map(String.init) : nil
        let timeline = Timeline(
            title: "Who held each stage",
            xLabel: "stage events in order, " + (day.map { "times of \($0) UTC" } ?? "dates UTC") + "; hover a bar or mark for details",
            lanes: lanes, bars: bars.sorted { ($0.lane, $0.from) < ($1.lane, $1.from) }, marks: marks,
            xTickLabels: events.enumerated().map { (x: Double($0.offset), label: tick($0.element.time, sameDay: day != nil)) })
        return timeline.svg()
    }

    /// "01:08:26" within one day, else "2026-12-07 01:08", in UTC as the tables' times are.
    static func tick(_ date: Date, sameDay: Bool) -> String {
        let stamp = Document.stamp(date)
        return sameDay ? String(stamp.dropFirst(11).prefix(8)) : String(stamp.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// production first, then the others in the order they first appear.
    static func orderedStages(_ stages: [String]) -> [String] {
        let names = HistoryPage.orderedNames(stages)
        return names.filter { $0 == "production" } + names.filter { $0 != "production" }
    }
}
