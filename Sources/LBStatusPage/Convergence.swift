import LBClusterView

/// How far each recent version has spread: who is on it, who is still applying it, who is not there yet
/// and what they say.
extension Fragment {
    func convergence(_ w: inout HTMLWriter) {
        w.markup("<section id=\"convergence\"><h2>Convergence</h2>")
        guard !status.convergence.isEmpty else {
            w.markup("<p class=\"mute\">No version to converge on yet.</p></section>\n")
            return
        }
        for c in status.convergence {
            let total = c.converged.count + c.applying.count + c.pending.count
            w.markup("<div class=\"conv\"")
            w.attribute("data-convergence", c.version)
            w.attribute("data-complete", c.complete)
            w.attribute("data-converged", c.converged.count)
            w.attribute("data-applying", c.applying.count)
            w.attribute("data-pending", c.pending.count)
            w.markup("><h3>v")
            w.number(c.version)
            if c.complete {
                w.markup(" · complete: all ")
                w.number(total)
                w.markup(" converged")
            } else {
                w.markup(" · ")
                w.number(c.converged.count)
                w.markup(" of ")
                w.number(total)
                w.markup(" converged, ")
                w.number(c.applying.count)
                w.markup(" applying, ")
                w.number(c.pending.count)
                w.markup(" pending")
            }
            w.markup("</h3>")
            names(&w, "Converged", c.converged)
            names(&w, "Applying", c.applying)
            if !c.pending.isEmpty {
                w.markup("<ul class=\"pending\">")
                for laggard in c.pending {
                    w.markup("<li")
                    w.attribute("data-pending-node", laggard.node)
                    if let reason = laggard.reason { w.attribute("data-reason", reason) }
                    w.markup("><strong>")
                    w.text(laggard.node)
                    w.markup("</strong> ")
                    if let version = laggard.version {
                        w.markup("at v")
                        w.number(version)
                    } else {
                        w.markup("on no version")
                    }
                    if let reason = laggard.reason {
                        w.markup(": ")
                        w.text(reason)
                    }
                    w.markup("</li>")
                }
                w.markup("</ul>")
            }
            w.markup("</div>\n")
        }
        w.markup("</section>\n")
    }

    /// A folded list: with 1,000 nodes the names would bury the rest of the page.
    func names(_ w: inout HTMLWriter, _ label: Markup, _ names: [String]) {
        guard !names.isEmpty else { return }
        w.markup("<details><summary>")
        w.markup(label)
        w.markup(": ")
        w.number(names.count)
        w.markup("</summary>")
        w.text(names.joined(separator: ", "))
        w.markup("</details>")
    }
}
