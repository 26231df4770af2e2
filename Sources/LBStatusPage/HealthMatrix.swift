import LBClusterView

/// The real servers as each director checks them: one row per endpoint of each service, one column per
/// director, every cell saying its state in words as well as colour.
extension Fragment {
    /// Directors are the nodes with the role or with checks to report, in the node table's order.
    var directors: [NodeStatus] {
        nodes.filter { !$0.destinations.isEmpty || $0.roles.contains("director") }
    }

    func healthMatrix(_ w: inout HTMLWriter) {
        w.markup("<section id=\"health\"><h2>Real servers</h2>")
        let directors = directors
        // Services, and endpoints within each, in the order directors first report them.
        var services: [String] = []
        var endpoints: [String: [String]] = [:]
        var seen: Set<Key> = []
        var cells: [[Key: DestinationHealth]] = []
        for director in directors {
            var mine: [Key: DestinationHealth] = [:]
            for d in director.destinations {
                let key = Key(service: d.service, endpoint: d.endpoint)
                if endpoints[d.service] == nil {
                    services.append(d.service)
                }
                if seen.insert(key).inserted { endpoints[d.service, default: []].append(d.endpoint) }
                mine[key] = d
            }
            cells.append(mine)
        }
        guard !services.isEmpty else {
            w.markup("<p class=\"mute\">No director reports real-server health yet.</p></section>\n")
            return
        }
        w.markup("<table id=\"health-matrix\"><thead><tr><th>Real server</th>")
        for director in directors {
            w.markup("<th")
            w.attribute("data-director", director.name)
            w.markup(">")
            w.text(director.name)
            w.markup("</th>")
        }
        w.markup("</tr></thead>\n")
        for service in services {
            w.markup("<tbody")
            w.attribute("data-service", service)
            w.markup("><tr><th")
            w.attribute("colspan", directors.count + 1)
            w.markup(">")
            w.text(service)
            w.markup("</th></tr>\n")
            for endpoint in endpoints[service] ?? [] {
                let key = Key(service: service, endpoint: endpoint)
                w.markup("<tr")
                w.attribute("data-endpoint", endpoint)
                w.markup(">")
                w.element("<td>", endpoint, close: "</td>")
                for (director, mine) in zip(directors, cells) {
                    w.markup("<td")
                    w.attribute("data-director", director.name)
                    if let d = mine[key] {
                        w.attribute("data-health", d.health)
                        w.markup(" title=\"weight ")
                        w.number(d.weight)
                        w.markup(", ")
                        w.number(d.active)
                        w.markup(" active\">")
                        w.text(d.health)
                    } else {
                        w.markup(" data-health=\"absent\" title=\"not reported by this director\">—")
                    }
                    w.markup("</td>")
                }
                w.markup("</tr>\n")
            }
            w.markup("</tbody>\n")
        }
        w.markup("</table></section>\n")
    }

    struct Key: Hashable {
        let service: String
        let endpoint: String
    }
}
