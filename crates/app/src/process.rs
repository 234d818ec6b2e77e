//! This process's own resource use, read from `/proc` (Linux; zero elsewhere): CPU time for
//! throughput figures and peak resident memory for the memory targets.

/// User + system CPU seconds used by this process so far.
pub fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, after the parenthesised command name.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND
}

/// Linux reports CPU time in USER_HZ ticks, 100 per second on every mainstream platform.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// Peak resident set size (VmHWM) in MiB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_has_used_cpu_and_memory() {
        // Burn 100 ms of CPU: ten clock ticks.
        let (before, started) = (cpu_seconds(), std::time::Instant::now());
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        assert!(
            cpu_seconds() - before >= 0.05,
            "{before} -> {}",
            cpu_seconds()
        );
        assert!(peak_rss_mb() > 1.0);
    }
}
