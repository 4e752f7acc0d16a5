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

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..12,
        text(6, true).prop_filter("non-empty", |p| !p.is_empty()),
        prop_oneof![Just(None), Just(Some(0u8)), Just(Some(1u8))],
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

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => spec().prop_map(Op::Insert),
        4 => spec().prop_map(Op::Upsert),
        2 => (0u8..12).prop_map(Op::Remove),
        5 => (prop_oneof![Just(None), Just(Some(0u8)), Just(Some(1u8))], text(7, false))
            .prop_map(|(team, name)| Op::Lookup(team, name)),
    ]
}

fn live_ids(r: &PatternRouter) -> Vec<String> {
    let mut ids: Vec<String> = r.deployments().map(|d| d.id().to_string()).collect();
    ids.sort();
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_reference(ops in proptest::collection::vec(op(), 1..60)) {
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
                    prop_assert_eq!(&got, &model.lookup(team.as_deref(), &name), "lookup {:?} {:?}", team, name);
                    let all: Vec<_> = match &team {
                        None => real.lookup_all(&name),
                        Some(t) => real.lookup_all_team(t, &name),
                    }.iter().map(reference::view).collect();
                    prop_assert_eq!(all, model.lookup_all(team.as_deref(), &name));
                }
            }
            // Exactly one entry per live id, none for removed ids, no empty pattern.
            prop_assert_eq!(live_ids(&real), model.ids());
            prop_assert_eq!(real.len(), model.len());
            prop_assert_eq!(real.pattern_count(), model.pattern_count());
        }
    }
}
