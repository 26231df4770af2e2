import Foundation
import LBClusterView

/// The controller's read-only status page: one self-contained HTML document (inline CSS, script and
/// SVG, nothing fetched but its own event stream), readable with JavaScript off, kept live by SSE.
///
/// Serve `render` at the page's URL and an SSE stream at `events` beside it (the script opens the
/// relative URL `events`, so the page works under any prefix): each message is
/// `sseMessage(fragment: fragment(…))`, whose HTML replaces the content of `<main id="live">`.
public enum StatusPage {
    /// The `Content-Type` of `render`'s document.
    public static let htmlContentType = "text/html; charset=utf-8"
    /// The `Content-Type` of the `events` stream (send `Cache-Control: no-cache` with it too).
    public static let sseContentType = "text/event-stream"
    /// An SSE comment, which EventSource ignores: sent every 15 s or so, it keeps proxies from closing an
    /// idle stream.
    public static let sseKeepAlive = ": keep-alive\n\n"

    /// The whole document: what `GET` of the page answers.
    public static func render(status: ClusterStatus, events: [ClusterEvent], now: Date) -> String {
        var w = HTMLWriter(capacity: capacity(status, events))
        w.markup("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        w.markup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        // Only this page's own script may run, whatever a name or message from the network holds.
        w.markup("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src '")
        w.markup(scriptHash)
        w.markup("'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'\">")
        // Without JavaScript there is no event stream: reloading is the way to stay current.
        w.markup("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>")
        w.markup("<link rel=\"icon\" href=\"data:,\"><title>")
        w.text(status.cluster)
        w.markup(" · lb status</title><style>")
        w.markup(style)
        w.markup("</style></head>\n<body><div id=\"conn\" data-conn=\"off\" hidden>off</div>\n<main id=\"live\">")
        Fragment(status: status, events: events, now: now).write(into: &w)
        w.markup("</main>\n<script>")
        w.markup(script)
        w.markup("</script>\n</body></html>\n")
        return w.output
    }

    /// The inner HTML of `<main id="live">`: what each SSE message carries.
    public static func fragment(status: ClusterStatus, events: [ClusterEvent], now: Date) -> String {
        var w = HTMLWriter(capacity: capacity(status, events))
        Fragment(status: status, events: events, now: now).write(into: &w)
        return w.output
    }

    /// `s` safe as HTML text and as a quoted attribute value: the escaping every value on the page gets.
    public static func escape(_ s: String) -> String {
        var w = HTMLWriter(capacity: s.utf8.count + 16)
        w.text(s)
        return w.output
    }

    /// About what a page takes, so the buffer grows once or twice rather than twenty times.
    static func capacity(_ status: ClusterStatus, _ events: [ClusterEvent]) -> Int {
        8192 + status.nodes.count * 700 + events.count * 300
    }

    /// Connects to `events`, swaps `main` on each `status` message and shows whether the stream is up;
    /// EventSource reconnects by itself. On load it notes in `data-load-ms` how long the page took from
    /// navigation start to laid out (reading `offsetHeight` forces the layout), for lb-bench and tests.
    static let script: Markup = """
    (function(){var c=document.getElementById("conn");function set(s){c.setAttribute("data-conn",s);c.textContent=s}\
    c.hidden=false;addEventListener("load",function(){void document.body.offsetHeight;\
    document.documentElement.setAttribute("data-load-ms",String(Math.round(performance.now())))});\
    if(!window.EventSource){set("static");return}set("connecting");var es=new EventSource("events");\
    es.onopen=function(){set("live")};es.onerror=function(){set("disconnected")};\
    es.addEventListener("status",function(e){document.getElementById("live").innerHTML=e.data;set("live")})})();
    """

    /// `sha256-` and the base64 SHA-256 of `script`, for the CSP. Change the script, change this: the
    /// test `testScriptHashMatchesTheScript` prints the new value.
    static let scriptHash: Markup = "sha256-YataYP0qhrffIjdAp+X/kcZRwmSBT1fGlEexpXZfGuY="

    static let style: Markup = """
    :root{--bad:#c53030;--warn:#b7791f;--ok:#2f855a;--mute:#718096;--line:#e2e8f0}\
    body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1a202c;background:#f7fafc}\
    main{padding:.2rem 1.5rem 2rem}h1{font-size:1.4rem;margin:.6rem 0 .3rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}\
    dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0}dl.facts dt{color:var(--mute)}dl.facts dd{margin:0}\
    table{border-collapse:collapse;background:#fff}th,td{border:1px solid var(--line);padding:.1rem .45rem;text-align:left;vertical-align:top}\
    th{background:#edf2f7;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}\
    tbody th{background:#f7fafc;font-weight:500;color:var(--mute)}.addr{color:var(--mute);margin-left:.4rem;font-size:12px}\
    .alarm{border-left:6px solid var(--warn);background:#fffaf0;padding:.5rem .8rem;margin:.3rem 0;list-style:none}\
    .alarm[data-kind=split-brain]{border-color:var(--bad);background:#fff5f5;color:#742a2a;font-size:1.1rem}\
    ul.alarms{padding:0;margin:0}.ok{color:var(--ok)}.bad{color:var(--bad);font-weight:600}.mute{color:var(--mute)}\
    td.member{font-weight:600}[data-member=alive]>td.member{color:var(--ok)}[data-member=suspect]>td.member{color:var(--warn)}\
    [data-member=dead]>td.member{color:var(--bad)}[data-member=left]>td.member,[data-member=unknown]>td.member{color:var(--mute)}\
    tr[data-lagging=true]>td.version{background:#fefcbf;font-weight:600}.vrrp{white-space:nowrap;margin-right:.5rem}\
    [data-state=MASTER]{color:#2b6cb0;font-weight:600}[data-state=FAULT]{color:var(--bad)}\
    td[data-health=up]{background:#c6f6d5}td[data-health=down]{background:#fed7d7;color:#742a2a;font-weight:600}\
    td[data-health=drain]{background:#fefcbf}td[data-health=unknown]{background:#edf2f7}td[data-health=absent]{color:var(--mute)}\
    td.roles{white-space:nowrap}td.err{color:var(--bad);max-width:28rem;overflow-wrap:anywhere}tr.split>td.master{background:#fed7d7}\
    .conv{margin:.3rem 0;padding:.3rem .6rem;background:#fff;border:1px solid var(--line)}.conv[data-complete=true] h3{color:var(--ok)}\
    .conv h3{font-size:1rem;margin:.1rem 0}.conv ul{margin:.2rem 0}\
    #conn{position:fixed;top:.5rem;right:.8rem;padding:.1rem .6rem;border-radius:1rem;font-size:12px;background:var(--line)}\
    #conn[data-conn=live]{background:#c6f6d5;color:#22543d}#conn[data-conn=disconnected]{background:#fed7d7;color:#742a2a}\
    #timeline{display:block;width:100%;max-width:1100px;height:auto;background:#fff;border:1px solid var(--line)}\
    #timeline text{font:11px system-ui,sans-serif;fill:#4a5568}#event-list{font-size:13px}#event-list time{color:var(--mute)}
    """
}
