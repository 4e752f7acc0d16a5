//! The PatternRouter against a plain reference model (a Vec scanned in order, anchored regexes) under
//! random insert / upsert / remove / lookup sequences.

mod reference;

use modelroute::{Deployment, DeploymentId, PatternRouter};
use proptest::prelude::*;
use reference::{Reference, found};

/// A small alphabet so patterns collide, share prefixes and suffixes, and contain regex metacharacters.
fn text(max: usize, star: bool) -> impl Strategy<Value = String> {
    let chars: Vec<char> = if star {
        vec!['a', 'b', '/', '-', '.', 'é', '*', '*']
    } else {
        vec!['a', 'b', '/', '-', '.', 'é', '*']
    };
    proptest::collection::vec(proptest::sample::select(chars), 0..=max)
        .prop_map(|v| v.into_iter().collect())
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Spec),
    Upsert(Spec),
    Remove(u8),
    Lookup(Option<u8>, String),
}

#[derive(Debug, Clone)]
struct Spec {
    id: u8,
    pattern: String,
    target: String,
    team: Option<u8>,
    extra: u8,
}

impl Spec {
    fn deployment(&self) -> Option<Deployment> {
        reference::deployment(
            &format!("id{}", self.id),
            &self.pattern,
            &self.target,
            self.team.map(|t| format!("team{t}")).as_deref(),
            self.extra,
        )
    }
}

fn spec(ids: u8, pattern: BoxedStrategy<String>, team: u32) -> impl Strategy<Value = Spec> {
    (
        0u8..ids,
        pattern,
        prop_oneof![team => Just(None), 1 => Just(Some(0u8)), 1 => Just(Some(1u8))],
        0u8..3,
        0u8..3,
    )
        .prop_map(|(id, pattern, team, target_kind, extra)| {
            let stars = pattern.matches('*').count();
            let target = match target_kind {
                0 => "fixed-target".to_string(),
                1 => format!("t/{}", "*/".repeat(stars)),
                // Sometimes a mismatched count, which both must refuse.
                _ => "m/*/*/*".to_string(),
            };
            Spec {
                id,
                pattern,
                target,
                team,
                extra,
            }
        })
}

/// Operations on deployments with ids below `ids` and patterns from `pattern` (global `global` times as
/// often as in each of two teams), removals with weight `remove` (inserts and upserts: 7), and lookups of
/// names from `name`.
fn op(
    ids: u8,
    pattern: BoxedStrategy<String>,
    global: u32,
    remove: u32,
    name: BoxedStrategy<String>,
) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => spec(ids, pattern.clone(), global).prop_map(Op::Insert),
        4 => spec(ids, pattern, global).prop_map(Op::Upsert),
        remove => (0u8..ids).prop_map(Op::Remove),
        5 => (prop_oneof![Just(None), Just(Some(0u8)), Just(Some(1u8))], name)
            .prop_map(|(team, name)| Op::Lookup(team, name)),
    ]
}

/// Any short pattern, and any short name.
fn mixed_op() -> impl Strategy<Value = Op> {
    let pattern = text(6, true).prop_filter("non-empty", |p| !p.is_empty());
    op(12, pattern.boxed(), 1, 2, text(7, false).boxed())
}

/// Patterns with one of two prefixes and one of two suffixes, and up to four inner literals (some empty,
/// some repeated, overlapping each other): many of them per prefix and suffix, more than the router
/// compares one by one. Names with those prefixes and suffixes.
fn shared_affix_op() -> impl Strategy<Value = Op> {
    let prefix = || prop_oneof![4 => Just("p/"), 1 => Just("p/a")];
    let suffix = || prop_oneof![4 => Just("-s"), 1 => Just("")];
    let pattern = (
        prefix(),
        proptest::collection::vec(text(3, false), 0..=4),
        suffix(),
    )
        .prop_map(|(prefix, inner, suffix)| {
            let mut segments = vec![prefix.to_string()];
            segments.extend(inner);
            segments.push(suffix.to_string());
            segments.join("*")
        });
    let name = prop_oneof![
        1 => text(7, false),
        6 => (prefix(), text(14, false), suffix()).prop_map(|(p, m, s)| format!("{p}{m}{s}")),
    ];
    op(40, pattern.boxed(), 6, 4, name.boxed())
}

fn live_ids(r: &PatternRouter) -> Vec<String> {
    let mut ids: Vec<String> = r.deployments().map(|d| d.id().to_string()).collect();
    ids.sort();
    ids
}

/// Runs `ops` on the router and the reference model side by side.
fn agrees(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut real = PatternRouter::new();
    let mut model = Reference::default();
    for op in ops {
        match op {
            Op::Insert(s) => {
                let Some(d) = s.deployment() else { continue };
                let a = real.insert(d.clone()).is_ok();
                let b = model.insert(d).is_ok();
                prop_assert_eq!(a, b, "insert {:?}", s);
            }
            Op::Upsert(s) => {
                let Some(d) = s.deployment() else { continue };
                let a = real.upsert(d.clone()).is_ok();
                let b = model.upsert(d.clone()).is_ok();
                prop_assert_eq!(a, b, "upsert {:?}", s);
                // Idempotent: a second identical upsert changes nothing.
                if a {
                    let before = (live_ids(&real), real.pattern_count());
                    prop_assert!(real.upsert(d).unwrap().is_none());
                    prop_assert_eq!(before, (live_ids(&real), real.pattern_count()));
                }
            }
            Op::Remove(id) => {
                let id = format!("id{id}");
                let a = real.remove(&DeploymentId::from(id.as_str())).is_some();
                let b = model.remove(&id);
                prop_assert_eq!(a, b, "remove {}", id);
            }
            Op::Lookup(team, name) => {
                let team = team.map(|t| format!("team{t}"));
                let got = match &team {
                    None => found(real.lookup(&name)),
                    Some(t) => found(real.lookup_team(t, &name)),
                };
                prop_assert_eq!(
                    &got,
                    &model.lookup(team.as_deref(), &name),
                    "lookup {:?} {:?}",
                    team,
                    name
                );
                let all: Vec<_> = match &team {
                    None => real.lookup_all(&name),
                    Some(t) => real.lookup_all_team(t, &name),
                }
                .iter()
                .map(reference::view)
                .collect();
                prop_assert_eq!(all, model.lookup_all(team.as_deref(), &name));
            }
        }
        // Exactly one entry per live id, none for removed ids, no empty pattern.
        prop_assert_eq!(live_ids(&real), model.ids());
        prop_assert_eq!(real.len(), model.len());
        prop_assert_eq!(real.pattern_count(), model.pattern_count());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_reference(ops in proptest::collection::vec(mixed_op(), 1..60)) {
        agrees(ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_reference_on_many_patterns_sharing_prefix_and_suffix(
        ops in proptest::collection::vec(shared_affix_op(), 1..200)
    ) {
        agrees(ops)?;
    }
}
