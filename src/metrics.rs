//! What a change costs, in the numbers reviewers compare: the image's size,
//! the cold start, duration and memory of the smoke test's invocation (its
//! `REPORT` line), and the image's scan findings. The production numbers
//! travel with the function itself, as a tag. Plain values: no I/O.

use std::collections::BTreeMap;

/// The tag that keeps a function's numbers from its last deploy.
pub const NUMBERS_TAG: &str = "lambda-ship:numbers";

/// One deploy's numbers; None where it was not measured.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Numbers {
    /// The image's compressed size, as pushed.
    pub size_bytes: Option<u64>,
    /// `Init Duration`: the cold start.
    pub init_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    pub max_memory_mb: Option<u64>,
}

impl Numbers {
    /// Reads the last `REPORT` line of an invocation's log tail.
    pub fn from_log(log: &str) -> Numbers {
        let Some(line) = log
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("REPORT"))
        else {
            return Numbers::default();
        };
        let field = |name: &str| -> Option<f64> {
            let at = line.find(&format!("{name}: "))? + name.len() + 2;
            line[at..].split_whitespace().next()?.parse().ok()
        };
        Numbers {
            size_bytes: None,
            init_ms: field("Init Duration"),
            // The tab tells it from "Billed Duration" and "Init Duration".
            duration_ms: field("\tDuration"),
            max_memory_mb: field("Max Memory Used").map(|m| m as u64),
        }
    }

    /// The tag value: `size=…;init=…;dur=…;mem=…`, within a tag's 256 characters.
    pub fn to_tag(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.size_bytes {
            parts.push(format!("size={s}"));
        }
        if let Some(i) = self.init_ms {
            parts.push(format!("init={i:.2}"));
        }
        if let Some(d) = self.duration_ms {
            parts.push(format!("dur={d:.2}"));
        }
        if let Some(m) = self.max_memory_mb {
            parts.push(format!("mem={m}"));
        }
        parts.join(";")
    }

    pub fn from_tag(tag: &str) -> Numbers {
        let mut n = Numbers::default();
        for (k, v) in tag.split(';').filter_map(|p| p.split_once('=')) {
            match k {
                "size" => n.size_bytes = v.parse().ok(),
                "init" => n.init_ms = v.parse().ok(),
                "dur" => n.duration_ms = v.parse().ok(),
                "mem" => n.max_memory_mb = v.parse().ok(),
                _ => {}
            }
        }
        n
    }

    /// These numbers, with `older`'s where these have none.
    pub fn or(&self, older: Option<&Numbers>) -> Numbers {
        let Some(older) = older else {
            return self.clone();
        };
        Numbers {
            size_bytes: self.size_bytes.or(older.size_bytes),
            init_ms: self.init_ms.or(older.init_ms),
            duration_ms: self.duration_ms.or(older.duration_ms),
            max_memory_mb: self.max_memory_mb.or(older.max_memory_mb),
        }
    }

    /// `size 1.1 MB, cold start 234 ms, duration 12 ms, max memory 45 MB`,
    /// what was measured.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.size_bytes {
            parts.push(format!("size {}", mb(s)));
        }
        if let Some(i) = self.init_ms {
            parts.push(format!("cold start {i:.0} ms"));
        }
        if let Some(d) = self.duration_ms {
            parts.push(format!("duration {d:.0} ms"));
        }
        if let Some(m) = self.max_memory_mb {
            parts.push(format!("max memory {m} MB"));
        }
        parts.join(", ")
    }

    pub fn is_empty(&self) -> bool {
        *self == Numbers::default()
    }
}

/// A change past these is a warning (never a failure).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    pub cold_start_ms: Option<f64>,
    pub size_mb: Option<f64>,
}

/// The warnings of a change against production's numbers.
pub fn warnings(now: &Numbers, before: &Numbers, limits: &Thresholds) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(limit), Some(a), Some(b)) = (limits.cold_start_ms, now.init_ms, before.init_ms)
        && a - b > limit
    {
        out.push(format!(
            "the cold start grew by {:.0} ms ({b:.0} → {a:.0} ms), more than --warn-cold-start-ms {limit:.0}",
            a - b
        ));
    }
    if let (Some(limit), Some(a), Some(b)) = (limits.size_mb, now.size_bytes, before.size_bytes) {
        let grew = (a as f64 - b as f64) / 1_000_000.0;
        if grew > limit {
            out.push(format!(
                "the image grew by {grew:.1} MB ({} → {}), more than --warn-size-mb {limit}",
                mb(b),
                mb(a)
            ));
        }
    }
    out
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// An image's scan on push, as ECR reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scan {
    /// `complete`, `pending` (not finished within the wait), or why there is none.
    pub status: String,
    /// Findings per severity (`CRITICAL`, `HIGH`, …).
    pub counts: BTreeMap<String, u64>,
    /// The critical and high findings.
    pub serious: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub severity: String,
    pub name: String,
    pub package: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "START RequestId: 1 Version: $LATEST\nhello\nEND RequestId: 1\n\
        REPORT RequestId: 1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t\
        Max Memory Used: 45 MB\tInit Duration: 234.56 ms\t\n";

    #[test]
    fn the_report_line_gives_cold_start_duration_and_memory() {
        let n = Numbers::from_log(REPORT);
        assert_eq!(n.init_ms, Some(234.56));
        assert_eq!(n.duration_ms, Some(12.34));
        assert_eq!(n.max_memory_mb, Some(45));
        assert!(Numbers::from_log("no report here").is_empty());
        let warm = REPORT.replace("\tInit Duration: 234.56 ms", "");
        assert_eq!(Numbers::from_log(&warm).init_ms, None);
    }

    #[test]
    fn numbers_travel_in_a_tag_and_past_a_threshold_warn() {
        let now = Numbers {
            size_bytes: Some(30 * 1_048_576),
            ..Numbers::from_log(REPORT)
        };
        let tag = now.to_tag();
        assert!(tag.len() <= 256);
        assert_eq!(
            now.summary(),
            "size 31.5 MB, cold start 235 ms, duration 12 ms, max memory 45 MB"
        );
        let warm = Numbers {
            init_ms: None,
            ..now.clone()
        };
        assert_eq!(
            warm.or(Some(&now)).init_ms,
            now.init_ms,
            "a warm start keeps the cold one"
        );
        let back = Numbers::from_tag(&tag);
        assert_eq!(back.size_bytes, now.size_bytes);
        assert_eq!(back.init_ms, Some(234.56));
        let before = Numbers {
            size_bytes: Some(10 * 1_048_576),
            init_ms: Some(100.0),
            ..Numbers::default()
        };
        let limits = Thresholds {
            cold_start_ms: Some(100.0),
            size_mb: Some(5.0),
        };
        let w = warnings(&now, &before, &limits);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("cold start grew by 135 ms"));
        assert!(w[1].contains("image grew by 21.0 MB"), "{w:?}");
        assert!(warnings(&now, &now, &limits).is_empty());
        assert!(warnings(&now, &before, &Thresholds::default()).is_empty());
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod metrics_tests;
