#if canImport(Glibc)
import Glibc
#endif

/// One dedicated thread that wakes sleepers at their CLOCK_MONOTONIC deadlines, for the one timer every
/// speaker keeps (Master_Down_Timer, Adver_Timer). It waits on a condition variable until shortly before
/// the earliest deadline (the kernel's default 50 µs timer slack), then spins the last 150 µs, so a
/// deadline is met within microseconds instead of the few hundred a dispatch timer plus a thread hop of
/// the cooperative pool cost. Skew_Time differences between backups are a few milliseconds at 0.1 s
/// adverts; a failover is a race against Master_Down_Interval, so the shell should not add to it.
final class TimerThread: @unchecked Sendable {
    static let shared = TimerThread()

    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var waiters: [UInt64: (deadline: Duration, continuation: CheckedContinuation<Void, Error>)] = [:]
    /// Sleeps that have an id but no continuation yet, and those of them already cancelled.
    private var pending: Set<UInt64> = []
    private var cancelledEarly: Set<UInt64> = []
    private var nextID: UInt64 = 0
    private static let spin = Duration.microseconds(150)

    private init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
        var thread = pthread_t()
        let context = Unmanaged.passUnretained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            Unmanaged<TimerThread>.fromOpaque(raw!).takeUnretainedValue().loop()
            return nil
        }, context)
        precondition(status == 0, "cannot start the VRRP timer thread (pthread_create \(status))")
        pthread_detach(thread)
    }

    /// Returns at `deadline` (a `MonotonicClock` instant); throws CancellationError if cancelled first.
    func sleep(until deadline: Duration) async throws {
        let id = locked { () -> UInt64 in
            nextID &+= 1
            pending.insert(nextID)
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let early = locked { () -> Bool in
                    pending.remove(id)
                    if cancelledEarly.remove(id) != nil { return true }
                    waiters[id] = (deadline, continuation)
                    pthread_cond_signal(&condition)
                    return false
                }
                if early { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = locked { () -> CheckedContinuation<Void, Error>? in
                if let w = waiters.removeValue(forKey: id) { return w.continuation }
                // Not registered yet: the registration will see this. Already woken: nothing to do.
                if pending.contains(id) { cancelledEarly.insert(id) }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func loop() {
        pthread_mutex_lock(&mutex)
        while true {
            guard let earliest = waiters.values.map(\.deadline).min() else {
                pthread_cond_wait(&condition, &mutex)
                continue
            }
            let now = MonotonicClock.read()
            if earliest - now > Self.spin {
                var wake = Self.timespec(earliest - Self.spin)
                pthread_cond_timedwait(&condition, &mutex, &wake)
                continue
            }
            // Within the last 150 µs: spin without the lock, then wake everyone due.
            pthread_mutex_unlock(&mutex)
            while MonotonicClock.read() < earliest {}
            pthread_mutex_lock(&mutex)
            let now2 = MonotonicClock.read()
            let due = waiters.filter { $0.value.deadline <= now2 }
            for id in due.keys { waiters[id] = nil }
            pthread_mutex_unlock(&mutex)
            for waiter in due.values { waiter.continuation.resume() }
            pthread_mutex_lock(&mutex)
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    private static func timespec(_ d: Duration) -> Glibc.timespec {
        let (seconds, attoseconds) = d.components
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }
}
