//! Random insert / upsert / remove / lookup sequences on the PatternRouter, checked against the plain
//! reference model of the property tests (tests/reference): same results, same live ids, no panic.
#![no_main]

#[path = "../../tests/reference/mod.rs"]
mod reference;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modelroute::{Deployment, DeploymentId, PatternRouter};
use reference::{Reference, found, view};

#[derive(Arbitrary, Debug)]
enum Op {
    Insert(Spec),
    Upsert(Spec),
    Remove(u8),
    Lookup(Option<bool>, String),
}

#[derive(Arbitrary, Debug)]
struct Spec {
    id: u8,
    pattern: Shape,
    target: String,
    team: Option<bool>,
    extra: u8,
}

/// A pattern: any string, or one of many sharing a prefix and a suffix (enough of them in one scope for the
/// router to index their inner literals) with several inner literals.
#[derive(Arbitrary, Debug)]
enum Shape {
    Free(String),
    Shared {
        long_prefix: bool,
        inner: Vec<String>,
        suffix: bool,
    },
}

impl Shape {
    fn text(&self) -> String {
        match self {
            Shape::Free(text) => text.clone(),
            Shape::Shared {
                long_prefix,
                inner,
                suffix,
            } => {
                let mut segments = vec![if *long_prefix { "p/a" } else { "p/" }];
                segments.extend(inner.iter().take(4).map(String::as_str));
                segments.push(if *suffix { "-s" } else { "" });
                segments.join("*")
            }
        }
    }
}

/// Ids: enough live deployments for a large bucket.
const IDS: u8 = 48;

fn team_name(t: bool) -> String {
    format!("team{}", u8::from(t))
}

impl Spec {
    fn deployment(&self) -> Option<Deployment> {
        reference::deployment(
            &format!("id{}", self.id % IDS),
            &self.pattern.text(),
            &self.target,
            self.team.map(team_name).as_deref(),
            self.extra,
        )
    }
}

fn ids(r: &PatternRouter) -> Vec<String> {
    let mut v: Vec<String> = r.deployments().map(|d| d.id().to_string()).collect();
    v.sort();
    v
}

fuzz_target!(|ops: Vec<Op>| {
    let mut real = PatternRouter::new();
    let mut model = Reference::default();
    for op in ops.into_iter().take(256) {
        match op {
            Op::Insert(s) => {
                if let Some(d) = s.deployment() {
                    assert_eq!(real.insert(d.clone()).is_ok(), model.insert(d).is_ok());
                }
            }
            Op::Upsert(s) => {
                if let Some(d) = s.deployment() {
                    assert_eq!(real.upsert(d.clone()).is_ok(), model.upsert(d).is_ok());
                }
            }
            Op::Remove(id) => {
                let id = format!("id{}", id % IDS);
                assert_eq!(
                    real.remove(&DeploymentId::from(id.as_str())).is_some(),
                    model.remove(&id)
                );
            }
            Op::Lookup(team, name) => {
                let team = team.map(team_name);
                let (best, all) = match &team {
                    None => (found(real.lookup(&name)), real.lookup_all(&name)),
                    Some(t) => (found(real.lookup_team(t, &name)), real.lookup_all_team(t, &name)),
                };
                assert_eq!(best, model.lookup(team.as_deref(), &name));
                let all: Vec<_> = all.iter().map(view).collect();
                assert_eq!(all, model.lookup_all(team.as_deref(), &name));
            }
        }
        assert_eq!(ids(&real), model.ids());
        assert_eq!(real.pattern_count(), model.pattern_count());
    }
});
