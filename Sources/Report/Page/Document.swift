import Foundation
import Registry

/// The frame every page shares: one HTML file with its CSS inline, no script and nothing
/// fetched, so it opens the same from an email attachment, a CI artifact or a laptop offline.
enum Document {
    static func html(title: String, heading: String, meta: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVG.escape(title))</title>
        <style>\(style)</style></head>
        <body><h1>\(SVG.escape(heading))</h1>
        <p class="meta">\(meta)</p>
        \(body)</body></html>

        """
    }

    static func stamp(_ date: Date) -> String { Date.ISO8601FormatStyle().format(date) }

    static func generated(_ date: Date) -> String {
        "generated \(stamp(date)) by mv \(SVG.escape(Registry.mvVersion))"
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:1200px}
        h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px;margin-top:22px}
        table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
        th{background:#f4f4f4}.meta,.note{color:#555}.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
        .chart text{font:11px system-ui,sans-serif;fill:#111}.chart .chart-title{font-size:13px;font-weight:600}
        .chart .cell{font-size:12px}.chart text.light{fill:#fff}.chart .bar-label{font-size:11px;dominant-baseline:middle}
        .deprecated{color:#888;text-decoration:line-through}.scroll{max-height:420px;overflow-y:auto;display:inline-block}details{margin:8px 0}summary{cursor:pointer;color:#333}
        """
}
