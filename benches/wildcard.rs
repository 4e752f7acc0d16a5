//! Wildcard lookup cost against the number of patterns, side by side with
//! - a `HashMap` exact-name lookup (the floor), and
//! - a linear scan of compiled regexes ordered by specificity (LiteLLM's `PatternMatchRouter` method),
//!
//! plus an upsert of an existing id at 100,000 patterns. At the end it prints the ratios the README quotes.
//!
//! Run: `cargo bench --bench wildcard`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group};
use modelroute::{Deployment, PatternRouter};
use regex::Regex;

const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];
const REGEX_SIZES: [usize; 3] = [10, 1_000, 10_000];
const NAMES: usize = 1024;

/// The i-th pattern: a realistic mix of provider, family, suffix and two-star patterns.
fn pattern(i: usize) -> (String, String) {
    match i % 4 {
        0 => (format!("provider{i}/*"), "openai/*".to_string()),
        1 => (format!("team{i}/gpt-*"), "azure/gpt-*".to_string()),
        2 => (format!("*-ft-{i}"), "ft/*".to_string()),
        _ => (format!("org{i}/*/v*"), "vertex/*/v*".to_string()),
    }
}

/// A requested name that the i-th pattern matches.
fn name_for(i: usize) -> String {
    match i % 4 {
        0 => format!("provider{i}/gpt-4o"),
        1 => format!("team{i}/gpt-4o-mini"),
        2 => format!("llama-3-ft-{i}"),
        _ => format!("org{i}/claude/v2"),
    }
}

fn deployment(i: usize) -> Deployment {
    let (p, t) = pattern(i);
    Deployment::new(p, t)
        .and_then(|d| d.with_id(format!("id{i}")))
        .expect("valid deployment")
}

/// `NAMES` requested names spread over the patterns (a fixed pseudo-random sequence).
fn names(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..NAMES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            name_for((x % n as u64) as usize)
        })
        .collect()
}

fn pattern_router(n: usize) -> PatternRouter {
    let mut r = PatternRouter::new();
    for i in 0..n {
        r.insert(deployment(i)).expect("insert");
    }
    r
}

/// The exact-name floor: one map from name to deployment.
fn exact_map(n: usize) -> HashMap<String, Arc<Deployment>> {
    (0..n)
        .map(|i| (name_for(i), Arc::new(deployment(i))))
        .collect()
}

/// LiteLLM's method: one regex per pattern, sorted by specificity, scanned until the first match.
fn regex_scan(n: usize) -> Vec<(Regex, Arc<Deployment>)> {
    let mut v: Vec<(usize, usize, usize, Regex, Arc<Deployment>)> = (0..n)
        .map(|i| {
            let (p, _) = pattern(i);
            let literal: Vec<String> = p.split('*').map(regex::escape).collect();
            let re = Regex::new(&format!("^{}$", literal.join("(.*)"))).expect("regex");
            let lit = p.chars().filter(|c| *c != '*').count();
            let stars = p.matches('*').count();
            (lit, stars, i, re, Arc::new(deployment(i)))
        })
        .collect();
    v.sort_by_key(|(lit, stars, i, _, _)| (std::cmp::Reverse(*lit), *stars, *i));
    v.into_iter().map(|(_, _, _, re, d)| (re, d)).collect()
}

fn scan(v: &[(Regex, Arc<Deployment>)], name: &str) -> Option<(Arc<Deployment>, String)> {
    for (re, d) in v {
        if let Some(caps) = re.captures(name) {
            let mut model = String::new();
            for (i, piece) in d.litellm_params().model().split('*').enumerate() {
                if i > 0 {
                    model.push_str(caps.get(i).map_or("", |m| m.as_str()));
                }
                model.push_str(piece);
            }
            return Some((d.clone(), model));
        }
    }
    None
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("wildcard_lookup");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let router = pattern_router(n);
        let exact = exact_map(n);
        let names = names(n);
        let mut k = 0;
        group.bench_function(BenchmarkId::new("hashmap_exact", n), |b| {
            b.iter(|| {
                k = (k + 1) % NAMES;
                black_box(exact.get(black_box(names[k].as_str())).cloned())
            })
        });
        group.bench_function(BenchmarkId::new("pattern_router", n), |b| {
            b.iter(|| {
                k = (k + 1) % NAMES;
                black_box(router.lookup(black_box(names[k].as_str())).is_some())
            })
        });
        group.bench_function(BenchmarkId::new("pattern_router_with_model", n), |b| {
            b.iter(|| {
                k = (k + 1) % NAMES;
                let m = router.lookup(black_box(names[k].as_str())).expect("match");
                black_box((m.first().deployment().clone(), m.first().into_model()))
            })
        });
        if REGEX_SIZES.contains(&n) {
            let scanned = regex_scan(n);
            group.bench_function(BenchmarkId::new("regex_linear_scan", n), |b| {
                b.iter(|| {
                    k = (k + 1) % NAMES;
                    black_box(scan(&scanned, black_box(names[k].as_str())))
                })
            });
        }
    }
    group.finish();
}

fn upserts(c: &mut Criterion) {
    let n = 100_000;
    let mut router = pattern_router(n);
    // Alternate two versions of one id: same pattern new target, and a move to another pattern.
    let same_a = Arc::new(deployment(4242));
    let same_b = Arc::new(
        Deployment::new(pattern(4242).0, "other/*")
            .and_then(|d| d.with_id("id4242"))
            .expect("valid"),
    );
    let moved = Arc::new(
        Deployment::new("moved-4242/*", "openai/*")
            .and_then(|d| d.with_id("id4242"))
            .expect("valid"),
    );
    let mut group = c.benchmark_group("wildcard_upsert_100000");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    let mut flip = false;
    group.bench_function("replace_same_pattern", |b| {
        b.iter(|| {
            flip = !flip;
            let d = if flip { &same_b } else { &same_a };
            black_box(router.upsert(d.clone()).expect("upsert"));
        })
    });
    group.bench_function("move_to_other_pattern", |b| {
        b.iter(|| {
            flip = !flip;
            let d = if flip { &moved } else { &same_a };
            black_box(router.upsert(d.clone()).expect("upsert"));
        })
    });
    group.bench_function("identical_noop", |b| {
        b.iter(|| black_box(router.upsert(same_a.clone()).expect("upsert")))
    });
    group.finish();
    assert_eq!(router.len(), n);
    assert_eq!(router.pattern_count(), n);
}

/// Nanoseconds per call of `f`: the fastest of a few timed batches (for the printed ratios only; on a shared
/// machine other work only ever adds time, so the minimum is the least disturbed figure).
fn per_call(mut f: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let iters = 20_000;
            let start = Instant::now();
            for i in 0..iters {
                f(i);
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[0]
}

fn per_call_slow(mut f: impl FnMut(usize)) -> f64 {
    let iters = 200;
    let start = Instant::now();
    for i in 0..iters {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

/// Prints the ratios the performance bars are stated in.
fn summary() {
    println!(
        "\n== wildcard summary (fastest of 7 batches, ns per lookup, {NAMES} rotating names) =="
    );
    println!(
        "{:>8} {:>12} {:>14} {:>12} {:>14} {:>16}",
        "patterns", "hashmap", "pattern_router", "router/hash", "regex_scan", "regex/router"
    );
    for n in SIZES {
        let router = pattern_router(n);
        let exact = exact_map(n);
        let names = names(n);
        let hash = per_call(|i| {
            black_box(exact.get(names[i % NAMES].as_str()).cloned());
        });
        let pat = per_call(|i| {
            black_box(router.lookup(names[i % NAMES].as_str()).is_some());
        });
        let (regex, ratio) = if REGEX_SIZES.contains(&n) {
            let scanned = regex_scan(n);
            let r = per_call_slow(|i| {
                black_box(scan(&scanned, names[i % NAMES].as_str()));
            });
            (format!("{r:.0}"), format!("{:.0}x", r / pat))
        } else {
            ("-".into(), "-".into())
        };
        println!(
            "{n:>8} {hash:>12.1} {pat:>14.1} {:>11.2}x {regex:>14} {ratio:>16}",
            pat / hash
        );
    }
    let mut router = pattern_router(100_000);
    let a = Arc::new(deployment(7));
    let b = Arc::new(
        Deployment::new("moved-7/*", "x/*")
            .and_then(|d| d.with_id("id7"))
            .expect("valid"),
    );
    let up = per_call(|i| {
        let d = if i % 2 == 0 { &b } else { &a };
        black_box(router.upsert(d.clone()).expect("upsert"));
    });
    println!(
        "upsert (move between patterns) at 100,000 patterns: {:.2} µs",
        up / 1000.0
    );
}

criterion_group!(benches, lookups, upserts);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
