//! Wildcard lookup cost against the number of patterns, side by side with
//! - a `HashMap` exact-name lookup (the floor), and
//! - a linear scan of compiled regexes ordered by specificity (LiteLLM's `PatternMatchRouter` method),
//!
//! plus an upsert of an existing id at 100,000 patterns; then the same lookups against patterns that all
//! share their literal prefix and suffix (`pre/*-v<i>-*`), with requested names of 100 B and 10 KB, and
//! writes into that one large bucket. At the end it prints the ratios the README quotes.
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
const SHARED_SIZES: [usize; 3] = [10, 1_000, 10_000];
const NAME_LENGTHS: [usize; 2] = [100, 10_000];
/// The 10 KB names rotate over fewer names: a name a server has just read is in cache, and 1,024 of them
/// (10 MB) would measure memory bandwidth instead of the lookup.
const LONG_NAMES: usize = 32;

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

/// The i-th pattern of the shared family: one literal prefix, one literal suffix, one inner literal each.
fn shared_deployment(i: usize) -> Deployment {
    Deployment::new(format!("pre/*-v{i}-*"), "openai/*-*")
        .and_then(|d| d.with_id(format!("shared{i}")))
        .expect("valid deployment")
}

fn shared_router(n: usize) -> PatternRouter {
    let mut r = PatternRouter::new();
    for i in 0..n {
        r.insert(shared_deployment(i)).expect("insert");
    }
    r
}

/// A name of exactly `len` bytes that `pre/*-v<i>-*` matches: the literal amid `x`s.
fn shared_name(i: usize, len: usize) -> String {
    let literal = format!("-v{i}-");
    let fill = len - "pre/".len() - literal.len();
    format!(
        "pre/{}{literal}{}",
        "x".repeat(fill / 2),
        "x".repeat(fill - fill / 2)
    )
}

/// `NAMES` names of `len` bytes spread over the shared family (the same sequence as [`names`]); for the
/// long names, `LONG_NAMES` of them repeated.
fn shared_names(n: usize, len: usize) -> Vec<String> {
    let distinct = if len > 1_000 { LONG_NAMES } else { NAMES };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let names: Vec<String> = (0..distinct)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shared_name((x % n as u64) as usize, len)
        })
        .collect();
    names.iter().cycle().take(NAMES).cloned().collect()
}

/// A name of `len` bytes with the family's prefix and no inner literal: it matches nothing (the issue's
/// `"pre/" + "x" * n`).
fn unmatched_name(len: usize) -> String {
    format!("pre/{}", "x".repeat(len - "pre/".len()))
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

fn shared_lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("wildcard_shared_affix");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in SHARED_SIZES {
        let router = shared_router(n);
        let short = shared_names(n, NAME_LENGTHS[0]);
        let exact: HashMap<String, Arc<Deployment>> = short
            .iter()
            .map(|name| (name.clone(), Arc::new(shared_deployment(0))))
            .collect();
        let mut k = 0;
        group.bench_function(BenchmarkId::new("hashmap_exact_100B", n), |b| {
            b.iter(|| {
                k = (k + 1) % NAMES;
                black_box(exact.get(black_box(short[k].as_str())).cloned())
            })
        });
        for len in NAME_LENGTHS {
            let names = shared_names(n, len);
            group.bench_function(BenchmarkId::new(format!("pattern_router_{len}B"), n), |b| {
                b.iter(|| {
                    k = (k + 1) % NAMES;
                    black_box(router.lookup(black_box(names[k].as_str())).is_some())
                })
            });
            let unmatched = unmatched_name(len);
            group.bench_function(BenchmarkId::new(format!("unmatched_{len}B"), n), |b| {
                b.iter(|| black_box(router.lookup(black_box(unmatched.as_str())).is_none()))
            });
        }
    }
    group.finish();
    // Writes into the one large bucket: add and remove the 10,001st pattern.
    let mut router = shared_router(10_000);
    let extra = Arc::new(shared_deployment(10_000));
    let mut group = c.benchmark_group("wildcard_shared_affix_write_10000");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("insert_then_remove", |b| {
        b.iter(|| {
            router.insert(extra.clone()).expect("insert");
            black_box(router.remove(extra.id()).expect("present"));
        })
    });
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
    shared_summary();
}

/// Ratios for the shared-prefix-and-suffix family.
fn shared_summary() {
    println!(
        "\n== shared prefix and suffix (pre/*-v<i>-*; fastest of 7 batches, ns per lookup) =="
    );
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>11} {:>11} {:>14} {:>14}",
        "patterns",
        "hashmap",
        "lookup_100B",
        "lookup_10KB",
        "100B/hash",
        "10KB/100B",
        "unmatched_100B",
        "unmatched_10KB"
    );
    for n in SHARED_SIZES {
        let router = shared_router(n);
        let short = shared_names(n, NAME_LENGTHS[0]);
        let long = shared_names(n, NAME_LENGTHS[1]);
        let exact: HashMap<String, Arc<Deployment>> = short
            .iter()
            .map(|name| (name.clone(), Arc::new(shared_deployment(0))))
            .collect();
        let hash = per_call(|i| {
            black_box(exact.get(short[i % NAMES].as_str()).cloned());
        });
        let at_100 = per_call(|i| {
            black_box(router.lookup(short[i % NAMES].as_str()).is_some());
        });
        let at_10k = per_call(|i| {
            black_box(router.lookup(long[i % NAMES].as_str()).is_some());
        });
        let (miss_short, miss_long) = (unmatched_name(100), unmatched_name(10_000));
        let miss_100 = per_call(|_| {
            black_box(router.lookup(miss_short.as_str()).is_none());
        });
        let miss_10k = per_call(|_| {
            black_box(router.lookup(miss_long.as_str()).is_none());
        });
        println!(
            "{n:>8} {hash:>12.1} {at_100:>12.1} {at_10k:>12.1} {:>10.2}x {:>10.2}x {miss_100:>14.1} {miss_10k:>14.1}",
            at_100 / hash,
            at_10k / at_100
        );
    }
    // Names made to cost the most at 10,000 patterns: every byte may start a literal (`-`), or the name is
    // one literal repeated (every occurrence recorded).
    let router = shared_router(10_000);
    for (what, unit) in [("every byte `-`", "-"), ("`-v1-` repeated", "-v1-")] {
        let costs: Vec<String> = [1_024, 10_000]
            .map(|len| {
                let name = format!("pre/{}", unit.repeat((len - 4) / unit.len()));
                let ns = per_call(|_| {
                    black_box(router.lookup(name.as_str()).is_some());
                });
                format!("{} B: {:.2} µs", name.len(), ns / 1000.0)
            })
            .into();
        println!("hostile name, {what}: {}", costs.join(", "));
    }
    drop(router);
    let mut router = shared_router(10_000);
    let extra = Arc::new(shared_deployment(10_000));
    let write = per_call(|_| {
        router.insert(extra.clone()).expect("insert");
        black_box(router.remove(extra.id()).expect("present"));
    });
    println!(
        "insert + remove in a bucket of 10,000 patterns: {:.2} µs",
        write / 1000.0
    );
    let start = Instant::now();
    let built = shared_router(10_000);
    println!(
        "building a router of those 10,000 patterns: {:.1} ms ({} patterns)",
        start.elapsed().as_secs_f64() * 1e3,
        built.pattern_count()
    );
}

criterion_group!(benches, lookups, upserts, shared_lookups);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
