import LBNetlink
import LBSpec

extension HostDiff {
    /// The order in which to apply `actions` (a permutation of their indices) so that destinations the
    /// kernel deleted a moment ago come back cheaply, or nil to keep the diff's order.
    ///
    /// The kernel keeps every deleted IPVS destination in a trash list for a while, and adding a
    /// destination first walks that list from its head looking for the same one (`ip_vs_trash_get_dest`).
    /// `ipvsadm -C` deletes services in the order its listing shows them, each with its destinations in
    /// listing order, pushing each onto the head: putting 40,000 back in the plan's order walks the
    /// whole list for each, O(n²), minutes under emulation (`ipvsadm -R` pays it too). Re-adding in the
    /// reverse of the last listing finds each at the head instead.
    ///
    /// Only the per-service groups HostDiff emits (add or edit a service, then its destinations) move,
    /// as whole groups, and within a group only destination adds; everything else keeps its place.
    public static func trashOrder(_ actions: [HostAction], lastSeen: IPVSTable) -> [Int]? {
        guard !lastSeen.services.isEmpty, actions.contains(where: { if case .addDestination = $0 { true } else { false } }) else { return nil }
        func groupKey(_ action: HostAction) -> IPVSServiceKey? {
            switch action {
            case .addService(let s), .editService(let s): return s.key
            case .addDestination(let k, _), .editDestination(let k, _), .deleteDestination(let k, _): return k
            default: return nil
            }
        }
        // The groups are one contiguous run in HostDiff's output; anything else is left alone.
        guard let first = actions.firstIndex(where: { groupKey($0) != nil }),
              let last = actions.lastIndex(where: { groupKey($0) != nil }),
              actions[first...last].allSatisfy({ groupKey($0) != nil }) else { return nil }
        var groups: [(key: IPVSServiceKey, indices: [Int])] = []
        for i in first...last {
            let key = groupKey(actions[i])!
            if groups.last?.key == key { groups[groups.count - 1].indices.append(i) } else { groups.append((key, [i])) }
        }
        var servicePosition: [IPVSServiceKey: Int] = [:]
        servicePosition.reserveCapacity(lastSeen.services.count)
        for (i, entry) in lastSeen.services.enumerated() { servicePosition[entry.service.key] = i }
        // Services the kernel never listed have nothing in the trash: after the others, in plan order.
        let ordered = groups.enumerated().sorted { a, b in
            let pa = servicePosition[a.element.key] ?? -1, pb = servicePosition[b.element.key] ?? -1
            return pa != pb ? pa > pb : a.offset < b.offset
        }
        var out = Array(actions.indices[..<first])
        out.reserveCapacity(actions.count)
        for (_, group) in ordered {
            let seen = servicePosition[group.key].map { lastSeen.services[$0].destinations } ?? []
            func position(_ i: Int) -> Int {
                guard case .addDestination(_, let d) = actions[i] else { return -1 }
                return seen.firstIndex { $0.address == d.address && $0.port == d.port } ?? -1
            }
            let adds = group.indices.filter { if case .addDestination = actions[$0] { true } else { false } }
            out += group.indices.filter { if case .addDestination = actions[$0] { false } else { true } }
            out += adds.enumerated().sorted { a, b in
                let pa = position(a.element), pb = position(b.element)
                return pa != pb ? pa > pb : a.offset < b.offset
            }.map(\.element)
        }
        out += actions.indices[(last + 1)...]
        return out
    }
}
