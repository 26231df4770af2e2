import Foundation
import LBClusterView

/// The recent events drawn as marks on a time axis in inline SVG, one lane per kind of subject, each
/// mark with a `<title>` tooltip; then the newest of them as a plain list.
extension Fragment {
    /// Marks drawn at most: beyond this the marks are a smear and the SVG costs more than the tables.
    static let maxMarks = 1000
    /// Events listed under the timeline.
    static let listed = 50

    /// The axis runs up to now, over the last hour or the span of the events if that is longer.
    func timeline(_ w: inout HTMLWriter) {
        let sorted = events.sorted { $0.at < $1.at }.suffix(Self.maxMarks)
        let end = max(now, sorted.last?.at ?? now)
        let start = min(end.addingTimeInterval(-3600), sorted.first?.at ?? end)
        let span = max(end.timeIntervalSince(start), 1)

        let width = 1000, left = 110, right = 20, laneHeight = 22, top = 8
        let axis = top + Lane.allCases.count * laneHeight + 4
        let height = axis + 26
        func x(_ t: Date) -> Int { left + Int((t.timeIntervalSince(start) / span * Double(width - left - right)).rounded()) }

        w.markup("<section id=\"events\"><h2>Events</h2>\n<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"")
        w.markup(" viewBox=\"0 0 ")
        w.number(width)
        w.markup(" ")
        w.number(height)
        w.markup("\"")
        w.attribute("data-start", UTCTime.iso(start))
        w.attribute("data-end", UTCTime.iso(end))
        w.attribute("data-marks", sorted.count)
        w.markup("><title>Events from ")
        w.text(UTCTime.iso(start))
        w.markup(" to ")
        w.text(UTCTime.iso(end))
        w.markup("</title>\n")
        for lane in Lane.allCases {
            let y = top + lane.rawValue * laneHeight + laneHeight / 2
            w.markup("<line x1=\"")
            w.number(left)
            w.markup("\" x2=\"")
            w.number(width - right)
            w.markup("\" y1=\"")
            w.number(y)
            w.markup("\" y2=\"")
            w.number(y)
            w.markup("\" stroke=\"#edf2f7\"/><text x=\"4\" y=\"")
            w.number(y + 4)
            w.markup("\">")
            w.markup(lane.label)
            w.markup("</text>\n")
        }
        w.markup("<line x1=\"")
        w.number(left)
        w.markup("\" x2=\"")
        w.number(width - right)
        w.markup("\" y1=\"")
        w.number(axis)
        w.markup("\" y2=\"")
        w.number(axis)
        w.markup("\" stroke=\"#a0aec0\"/>\n")
        let step = Self.tickStep(span)
        var tick = (start.timeIntervalSince1970 / step).rounded(.up) * step
        while tick <= end.timeIntervalSince1970 {
            let tx = x(Date(timeIntervalSince1970: tick))
            w.markup("<line x1=\"")
            w.number(tx)
            w.markup("\" x2=\"")
            w.number(tx)
            w.markup("\" y1=\"")
            w.number(axis)
            w.markup("\" y2=\"")
            w.number(axis + 4)
            w.markup("\" stroke=\"#a0aec0\"/><text text-anchor=\"middle\" x=\"")
            w.number(tx)
            w.markup("\" y=\"")
            w.number(axis + 17)
            w.markup("\">")
            w.text(UTCTime.tick(Date(timeIntervalSince1970: tick), withDay: span > 86_400))
            w.markup("</text>\n")
            tick += step
        }
        for event in sorted {
            let style = Self.style(event.kind)
            w.markup("<circle")
            w.attribute("data-kind", event.kind)
            w.markup(" cx=\"")
            w.number(x(event.at))
            w.markup("\" cy=\"")
            w.number(top + style.lane.rawValue * laneHeight + laneHeight / 2)
            w.markup("\" r=\"5\" fill-opacity=\"0.8\" fill=\"")
            w.markup(style.colour)
            w.markup("\"><title>")
            describe(&w, event, withDate: true)
            w.markup("</title></circle>\n")
        }
        w.markup("</svg>\n")
        legend(&w, kinds: sorted.map(\.kind))
        eventList(&w)
        w.markup("</section>\n")
    }

    /// One swatch per kind on the timeline, so colour is never the only way to tell marks apart.
    func legend(_ w: inout HTMLWriter, kinds: [String]) {
        var seen: Set<String> = []
        let present = kinds.filter { seen.insert($0).inserted }.sorted()
        guard !present.isEmpty else {
            w.markup("<p class=\"mute\">No events in this window.</p>")
            return
        }
        w.markup("<p class=\"legend\">")
        for kind in present {
            w.markup("<span")
            w.attribute("data-legend", kind)
            w.markup("><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><circle cx=\"5\" cy=\"5\" r=\"5\" fill=\"")
            w.markup(Self.style(kind).colour)
            w.markup("\"/></svg> ")
            w.text(kind)
            w.markup("</span> ")
        }
        w.markup("</p>")
    }

    func eventList(_ w: inout HTMLWriter) {
        let newest = events.sorted { $0.at > $1.at }.prefix(Self.listed)
        guard !newest.isEmpty else { return }
        w.markup("<p class=\"mute\">The newest ")
        w.number(newest.count)
        w.markup(" of ")
        w.number(events.count)
        w.markup(" events, newest first.</p><ol id=\"event-list\">")
        for event in newest {
            w.markup("<li")
            w.attribute("data-event", event.id)
            w.attribute("data-kind", event.kind)
            w.markup("><time")
            w.attribute("datetime", UTCTime.iso(event.at))
            w.attribute("title", UTCTime.iso(event.at))
            w.markup(">")
            w.text(UTCTime.clock(event.at))
            w.markup("</time> ")
            describe(&w, event, withDate: false)
            w.markup("</li>\n")
        }
        w.markup("</ol>")
    }

    /// `kind · node · v12 · message`, with the time first in tooltips.
    func describe(_ w: inout HTMLWriter, _ event: ClusterEvent, withDate: Bool) {
        if withDate {
            w.text(UTCTime.iso(event.at))
            w.markup(" · ")
        }
        w.text(event.kind)
        if let node = event.node {
            w.markup(" · ")
            w.text(node)
        }
        if let version = event.version {
            w.markup(" · v")
            w.number(version)
        }
        w.markup(" · ")
        w.text(event.message)
    }

    /// The tick spacing that puts at most eight ticks on the axis.
    static func tickStep(_ span: TimeInterval) -> TimeInterval {
        let steps: [TimeInterval] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800]
        return steps.first { span / $0 <= 8 } ?? (span / 8 / 86_400).rounded(.up) * 86_400
    }

    enum Lane: Int, CaseIterable {
        case versions, members, servers

        var label: Markup {
            switch self {
            case .versions: "versions"
            case .members: "nodes, VRRP"
            case .servers: "servers, drift"
            }
        }
    }

    /// Each kind's lane and colour: red for what went wrong, green for what came back, blue for versions.
    static func style(_ kind: String) -> (lane: Lane, colour: Markup) {
        switch ClusterEvent.Kind(rawValue: kind) {
        case .applied: (.versions, "#2b6cb0")
        case .nodeProgress: (.versions, "#90cdf4")
        case .converged: (.versions, "#2f855a")
        case .timedOut: (.versions, "#dd6b20")
        case .refused: (.versions, "#c53030")
        case .nodeJoined: (.members, "#38a169")
        case .nodeLost: (.members, "#c53030")
        case .nodeLeft: (.members, "#718096")
        case .vrrp: (.members, "#6b46c1")
        case .splitBrain: (.members, "#742a2a")
        case .splitBrainCleared: (.members, "#2f855a")
        case .serverDown: (.servers, "#e53e3e")
        case .serverUp: (.servers, "#48bb78")
        case .driftRepaired: (.servers, "#d69e2e")
        case nil: (.members, "#a0aec0")
        }
    }
}
