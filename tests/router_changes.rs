//! Changing a running router: apply, reconcile (equal to a router built fresh, checked by property
//! tests), validation before any change, and the fate of health/strategy state.

use std::time::Duration;

use modelroute::router::{
    ChangeSet, FailureKind, Outcome, RequestContext, RouterSettings, RoutingStrategy,
};
use modelroute::{ChangeError, Deployment, DeploymentId, Router};
use proptest::prelude::*;

const NONE: RequestContext<'static> = RequestContext::new();

fn d(name: &str, model: &str, id: &str) -> Deployment {
    Deployment::new(name, model).unwrap().with_id(id).unwrap()
}

fn ids(r: &Router, model: &str) -> Vec<String> {
    r.explain(model, &NONE)
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.deployment.id().to_string())
        .collect()
}

#[test]
fn apply_adds_updates_and_removes() {
    let r = Router::new([d("g", "openai/a", "a"), d("g", "openai/b", "b")]).unwrap();
    let report = r
        .apply(
            ChangeSet::new()
                .remove("b")
                .remove("nope")
                .upsert(d("g", "openai/a2", "a"))
                .upsert(d("g", "openai/c", "c"))
                .upsert(d("h", "openai/h", "h")),
        )
        .unwrap();
    assert_eq!(
        (
            report.added,
            report.updated,
            report.removed,
            report.not_found,
            report.unchanged
        ),
        (2, 1, 1, 1, 0)
    );
    assert_eq!(ids(&r, "g"), ["a", "c"]);
    assert_eq!(r.route("h", &NONE).unwrap().model(), "openai/h");
    let again = r
        .apply(ChangeSet::new().upsert(d("g", "openai/a2", "a")))
        .unwrap();
    assert_eq!(again.unchanged, 1);
}

#[test]
fn an_invalid_change_leaves_the_router_untouched() {
    let r = Router::new([d("g", "openai/a", "a")]).unwrap();
    let before = r.routing_table();
    // The first upsert is fine, the second is refused: nothing is applied.
    let bad = ChangeSet::new()
        .remove("a")
        .upsert(d("g2", "openai/x", "x"))
        .upsert(d("llm/*", "openai/*/*", "bad"));
    let err = r.apply(bad).unwrap_err();
    assert!(
        matches!(&err, ChangeError::Pattern { id, .. } if id.as_str() == "bad"),
        "{err:?}"
    );
    assert_eq!(r.routing_table(), before);

    let dup = ChangeSet::new()
        .upsert(d("g", "openai/1", "z"))
        .upsert(d("g", "openai/2", "z"));
    assert!(matches!(
        r.apply(dup).unwrap_err(),
        ChangeError::DuplicateId { .. }
    ));
    let conflict = ChangeSet::new().upsert(d("g", "openai/1", "a")).remove("a");
    assert!(matches!(
        r.apply(conflict).unwrap_err(),
        ChangeError::Conflict { .. }
    ));
    let err = r
        .reconcile([d("g", "openai/1", "q"), d("g", "openai/2", "q")])
        .unwrap_err();
    assert_eq!(err.id().as_str(), "q");
    assert_eq!(r.routing_table(), before);
}

#[test]
fn updating_a_wildcard_leaves_no_stale_entry() {
    // LiteLLM #29064: after an update, ~50% of requests went to the deleted configuration.
    let r = Router::new([
        d("openai/*", "openai/*", "w"),
        d("openai/*", "azure/*", "w2"),
    ])
    .unwrap();
    r.apply(ChangeSet::new().upsert(d("llm/*", "openai/*", "w")))
        .unwrap();
    for _ in 0..50 {
        assert_eq!(
            r.route("openai/gpt-4o", &NONE).unwrap().model(),
            "azure/gpt-4o"
        );
    }
    r.reconcile([d("llm/*", "openai/*", "w")]).unwrap();
    assert!(r.route("openai/gpt-4o", &NONE).unwrap_err().is_not_found());
    assert_eq!(r.routing_table().groups.len(), 1);
}

/// Five failures: enough for `allowed_fails: 3`, and for LiteLLM's default rule (a failure share above
/// 50% over at least 5 requests of the minute).
fn cool_down(r: &Router, id: &str) {
    let id: DeploymentId = id.into();
    for _ in 0..5 {
        r.report_id(&id, Outcome::failure(FailureKind::Status(500)));
    }
    assert!(r.health(&id).unwrap().is_cooling_down());
}

#[test]
fn health_state_is_kept_when_nothing_that_matters_changed() {
    let base = d("g", "azure/gpt-4o", "a")
        .with_param("api_base", "https://eu.example")
        .unwrap();
    let r = Router::builder()
        .settings(RouterSettings::default().with_cooldown(3, Duration::from_secs(60)))
        .deployment(base.clone())
        .deployment(d("g", "openai/gpt-4o", "b"))
        .build()
        .unwrap();
    cool_down(&r, "a");
    r.report_id(&"a".into(), Outcome::success(Duration::from_millis(250)));
    // Routing knobs, model_name, model_info: the same endpoint, the state stays.
    let tuned = base
        .clone()
        .with_param("rpm", 100)
        .unwrap()
        .with_param("weight", 3)
        .unwrap()
        .with_param("order", 1)
        .unwrap()
        .with_info("note", "tuned")
        .unwrap();
    let report = r
        .reconcile([tuned.clone(), d("g", "openai/gpt-4o", "b")])
        .unwrap();
    assert_eq!(
        (
            report.added,
            report.updated,
            report.unchanged,
            report.removed
        ),
        (0, 1, 1, 0)
    );
    let h = r.health(&"a".into()).unwrap();
    assert!(h.is_cooling_down());
    assert_eq!(h.average_latency, Some(Duration::from_millis(250)));
    // A new api_base is another endpoint: fresh state.
    let moved = tuned.with_param("api_base", "https://us.example").unwrap();
    r.apply(ChangeSet::new().upsert(moved)).unwrap();
    let h = r.health(&"a".into()).unwrap();
    assert!(!h.is_cooling_down());
    assert_eq!(h.average_latency, None);
}

#[test]
fn health_state_of_a_removed_deployment_goes_with_it() {
    // LiteLLM #33168 / #34564: strategy registries kept entries of deleted deployments.
    let r = Router::new([d("g", "openai/a", "a"), d("g", "openai/b", "b")]).unwrap();
    cool_down(&r, "a");
    r.reconcile([d("g", "openai/b", "b")]).unwrap();
    assert!(r.health(&"a".into()).is_none());
    r.apply(ChangeSet::new().upsert(d("g", "openai/a", "a")))
        .unwrap();
    assert!(
        !r.health(&"a".into()).unwrap().is_cooling_down(),
        "re-added: a fresh start"
    );
}

#[test]
fn reconcile_restores_list_order_within_groups() {
    let r = Router::builder()
        .settings(RouterSettings::default().with_strategy(RoutingStrategy::RoundRobin))
        .deployments([d("g", "m/a", "a"), d("g", "m/b", "b"), d("g", "m/c", "c")])
        .build()
        .unwrap();
    r.reconcile([
        d("g", "m/c", "c"),
        d("g", "m/n", "n"),
        d("g", "m/a", "a"),
        d("g", "m/b", "b"),
    ])
    .unwrap();
    assert_eq!(ids(&r, "g"), ["c", "n", "a", "b"]);
}

#[test]
fn reconcile_restores_precedence_between_equally_specific_patterns() {
    // "x-*" and "*-y" are equally specific: the one listed first wins "x-y".
    let r = Router::new([d("x-*", "p1/*", "1"), d("*-y", "p2/*", "2")]).unwrap();
    assert_eq!(r.route("x-y", &NONE).unwrap().model(), "p1/y");
    let list = [d("*-y", "p2/*", "2"), d("x-*", "p1/*", "1")];
    r.reconcile(list.clone()).unwrap();
    assert_eq!(r.route("x-y", &NONE).unwrap().model(), "p2/x");
    assert_eq!(
        r.routing_table(),
        Router::new(list).unwrap().routing_table()
    );
    // A new pattern listed before an existing one of the same class.
    let list = [
        d("x*y", "p3/*", "3"),
        d("*-y", "p2/*", "2"),
        d("x-*", "p1/*", "1"),
    ];
    r.reconcile(list.clone()).unwrap();
    assert_eq!(r.route("x-y", &NONE).unwrap().model(), "p3/-");
    assert_eq!(
        r.routing_table(),
        Router::new(list).unwrap().routing_table()
    );
}

// ---------------------------------------------------------------------------------------------------
// Property: after any sequence of applies and reconciles, reconcile(list) gives the router that
// Router::new(list) gives.

const NAMES: [&str; 8] = ["a", "b", "x-*", "*-y", "x*y", "ab*", "*", "x-y"];
const TEAMS: [Option<&str>; 3] = [None, Some("t1"), Some("t2")];
/// Requested names: model names and wildcard matches, then `litellm_params.model`s and deployment ids.
const PROBES: [&str; 19] = [
    "a", "b", "x-y", "x-", "-y", "xy", "x-z-y", "aby", "ab", "ab-y", "q", "x--y", "abx-y", "x-yy",
    "fixed/0", "fixed/1", "fixed/2", "d1", "d4",
];

#[derive(Debug, Clone)]
struct Spec {
    id: u8,
    name: u8,
    team: u8,
    fixed_target: bool,
    rpm: Option<u8>,
    base: u8,
}

fn build(s: &Spec) -> Deployment {
    let name = NAMES[s.name as usize];
    let target = if s.fixed_target || !name.contains('*') {
        // Shared by several deployments: `litellm_params.model` groups span model names.
        format!("fixed/{}", s.id % 3)
    } else {
        "prov/".to_string() + &"*".repeat(name.matches('*').count())
    };
    let mut dep = match TEAMS[s.team as usize] {
        None => Deployment::new(name, target).unwrap(),
        Some(team) => Deployment::new(format!("internal-{}", s.id), target)
            .unwrap()
            .with_team(team, name)
            .unwrap(),
    };
    if let Some(rpm) = s.rpm {
        dep = dep.with_param("rpm", rpm).unwrap();
    }
    dep.with_param("api_base", format!("https://h{}.example", s.base))
        .unwrap()
        .with_id(format!("d{}", s.id))
        .unwrap()
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..10,
        0u8..8,
        0u8..3,
        any::<bool>(),
        proptest::option::of(0u8..3),
        0u8..2,
    )
        .prop_map(|(id, name, team, fixed_target, rpm, base)| Spec {
            id,
            name,
            team,
            fixed_target,
            rpm,
            base,
        })
}

fn unique(specs: Vec<Spec>) -> Vec<Deployment> {
    let mut seen = std::collections::HashSet::new();
    specs
        .into_iter()
        .filter(|s| seen.insert(s.id))
        .map(|s| build(&s))
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    Reconcile(Vec<Spec>),
    Apply(Vec<Spec>, Vec<u8>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        proptest::collection::vec(spec(), 0..12).prop_map(Step::Reconcile),
        (
            proptest::collection::vec(spec(), 0..5),
            proptest::collection::vec(0u8..10, 0..4)
        )
            .prop_map(|(u, r)| Step::Apply(u, r)),
    ]
}

fn assert_same_routing(r: &Router, fresh: &Router) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.routing_table(), fresh.routing_table());
    for team in TEAMS {
        let ctx = match team {
            Some(t) => RequestContext::new().with_team(t),
            None => RequestContext::new(),
        };
        for probe in PROBES {
            prop_assert_eq!(
                r.explain(probe, &ctx),
                fresh.explain(probe, &ctx),
                "probe {} team {:?}",
                probe,
                team
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn reconcile_equals_a_fresh_build(steps in proptest::collection::vec(step(), 1..8)) {
        let r = Router::new(Vec::<Deployment>::new()).unwrap();
        // The model of what the router holds, by id.
        let mut model: std::collections::BTreeMap<String, Deployment> = Default::default();
        for step in steps {
            match step {
                Step::Reconcile(specs) => {
                    let list = unique(specs);
                    r.reconcile(list.clone()).unwrap();
                    model = list.iter().map(|d| (d.id().to_string(), d.clone())).collect();
                    let fresh = Router::new(list).unwrap();
                    assert_same_routing(&r, &fresh)?;
                }
                Step::Apply(specs, removes) => {
                    let upserts = unique(specs);
                    let upserted: std::collections::HashSet<String> = upserts.iter().map(|d| d.id().to_string()).collect();
                    let mut changes = ChangeSet::new();
                    for id in removes.iter().map(|i| format!("d{i}")).filter(|id| !upserted.contains(id)) {
                        model.remove(&id);
                        changes = changes.remove(id.as_str());
                    }
                    for dep in upserts {
                        model.insert(dep.id().to_string(), dep.clone());
                        changes = changes.upsert(dep);
                    }
                    r.apply(changes).unwrap();
                    let held: Vec<Deployment> = r.deployments().iter().map(|d| (**d).clone()).collect();
                    let expected: Vec<Deployment> = model.values().cloned().collect();
                    prop_assert_eq!(held, expected);
                    // Bringing it to its own content in list order gives the fresh router of that list.
                    let list: Vec<Deployment> = model.values().cloned().collect();
                    r.reconcile(list.clone()).unwrap();
                    assert_same_routing(&r, &Router::new(list).unwrap())?;
                }
            }
        }
    }

    #[test]
    fn reconcile_to_a_permutation_equals_a_fresh_build(specs in proptest::collection::vec(spec(), 0..12), seed in any::<u64>()) {
        let list = unique(specs);
        let r = Router::new(list.clone()).unwrap();
        let mut shuffled = list.clone();
        // Fisher-Yates with a tiny LCG from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let report = r.reconcile(shuffled.clone()).unwrap();
        prop_assert_eq!(report.added + report.updated + report.removed, 0);
        assert_same_routing(&r, &Router::new(shuffled).unwrap())?;
    }
}
